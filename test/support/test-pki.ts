/**
 * Throwaway certificates for the local HTTPS CRM: a test CA and a server
 * certificate it signed for `localhost` and `127.0.0.1`, so tests exercise real
 * TLS verification (a client trusting only this CA connects; one using the system
 * store fails). Made with the openssl CLI, argument arrays, no shell. P-256 keys:
 * fast to generate and cheap handshakes for the benchmark.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Long enough for any test run, short enough that a leaked key is worthless. */
const VALID_DAYS = "2";
const SERVER_SAN = "subjectAltName=DNS:localhost,IP:127.0.0.1";
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export interface TestPki {
  /** PEM file of the test CA: what a sidecar config's CA option would point at. */
  caFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

export interface SelfSignedCert {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args);
  } catch (err) {
    const failure = err as { stderr?: string; message?: string };
    throw new Error(`openssl ${args[0]} failed: ${failure.stderr || failure.message}`);
  }
}

function serial(): string {
  return `0x${randomBytes(8).toString("hex")}`;
}

/** Writes ca.{key,pem} and server.{key,pem} into `dir` (created if missing). */
export async function createTestPki(dir: string): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, "ca.key");
  const caFile = join(dir, "ca.pem");
  const keyFile = join(dir, "server.key");
  const csrFile = join(dir, "server.csr");
  const certFile = join(dir, "server.pem");
  const extFile = join(dir, "server.ext");

  // biome-ignore format: openssl options read best as option/value pairs on a line
  await openssl([
    "req", "-x509", ...EC_KEY, "-keyout", caKey, "-out", caFile, "-days", VALID_DAYS, "-set_serial", serial(),
    "-subj", "/O=cvety-sidecar tests/CN=cvety-sidecar test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl(["req", "-new", ...EC_KEY, "-keyout", keyFile, "-out", csrFile, "-subj", "/CN=localhost"]);
  await writeFile(
    extFile,
    `${SERVER_SAN}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  // biome-ignore format: openssl options read best as option/value pairs on a line
  await openssl([
    "x509", "-req", "-in", csrFile, "-CA", caFile, "-CAkey", caKey, "-set_serial", serial(),
    "-days", VALID_DAYS, "-extfile", extFile, "-out", certFile,
  ]);

  const [caPem, certPem, keyPem] = await Promise.all([
    readFile(caFile, "utf8"),
    readFile(certFile, "utf8"),
    readFile(keyFile, "utf8"),
  ]);
  return { caFile, caPem, certPem, keyPem, certFile, keyFile };
}

/**
 * A self-signed server certificate for the same names, signed by no test CA: a
 * server using it must fail verification for a client that trusts only the test
 * CA, for the right reason (trust, not a host name mismatch).
 */
export async function createSelfSignedUntrusted(dir: string): Promise<SelfSignedCert> {
  await mkdir(dir, { recursive: true });
  const keyFile = join(dir, "untrusted.key");
  const certFile = join(dir, "untrusted.pem");
  // biome-ignore format: openssl options read best as option/value pairs on a line
  await openssl([
    "req", "-x509", ...EC_KEY, "-keyout", keyFile, "-out", certFile, "-days", VALID_DAYS, "-set_serial", serial(),
    "-subj", "/CN=localhost", "-addext", SERVER_SAN,
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  return { certPem, keyPem, certFile, keyFile };
}
