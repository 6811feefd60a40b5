import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { EXIT_RUNTIME } from "../../daemon/errors.js";
import { copyFiles, listPackageContents } from "../code/package-files.js";
import { execCommand } from "../host-system.js";
import { PreflightError } from "../install-errors.js";
import { SYMBOLS } from "../plan/run-steps.js";
import { checkNode } from "../preflight/host-checks.js";
import { renderSecretsEnv } from "../render/secrets-env-file.js";
import { shellQuote } from "../shell-quote.js";
import {
  parseRemoteProbe,
  REMOTE_PROBE_SCRIPT,
  type RemoteProbe,
  remoteInstallCommand,
  type SshConnection,
  sshOptions,
} from "./remote-command.js";

/**
 * `install --ssh user@host`: from an ops machine, with the system's ssh and
 * scp. Checks the remote Node, ships this exact package (`npm pack`) plus
 * its production dependencies when the remote Node can load the same native
 * modules, runs the same install there (through `sudo -n` when the user is
 * not root and the install is not staged), streams its output and returns
 * its exit code. Secrets go over ssh's stdin, never on a command line.
 */

export interface SshRolloutRequest {
  connection: SshConnection;
  packageDir: string;
  /** The install flags for the remote run, without secrets and without the ssh flags. */
  installArgs: readonly string[];
  /** Local CA file: shipped, and given to the remote install as --crm-ca-file. */
  caFile?: string;
  /** CVETY_SIDECAR_* values for the remote install's stdin. */
  secrets: Readonly<Record<string, string>>;
  /** --root was given: the remote install stages, so it needs no root. */
  staged: boolean;
  out: (line: string) => void;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const SSH_FAILED = 255;
const REMOTE_CA_FILE = "crm-ca.pem";

export async function sshRollout(req: SshRolloutRequest): Promise<number> {
  const { connection: c, out } = req;
  const ssh = (script: string) => execCommand(["ssh", ...sshOptions(c, "-p"), c.target, script]);
  out(`Checking ${c.target} over SSH:`);
  const answer = await ssh(REMOTE_PROBE_SCRIPT);
  if (answer.status !== 0) {
    out(`${SYMBOLS.failed} ssh ${c.target} failed (exit ${answer.status}): ${answer.stderr.trim()}`);
    return EXIT_RUNTIME;
  }
  const probe = parseRemoteProbe(answer.stdout);
  // Until the remote command runs (it removes the folder itself on exit), cleaning up is ours.
  let remoteCommandRan = false;
  const local = await mkdtemp(join(tmpdir(), "cvety-sidecar-ssh-"));
  try {
    const engines = (
      JSON.parse(await readFile(join(req.packageDir, "package.json"), "utf8")) as {
        engines?: { node?: string };
      }
    ).engines?.node;
    out(`${SYMBOLS.done} ${checkNode(probe.nodeVersion, engines, probe.nodePath)} on ${c.target}`);
    const sudo = probe.uid !== 0 && !req.staged;
    if (sudo) {
      const canSudo = await ssh("sudo -n true");
      if (canSudo.status !== 0) {
        throw new PreflightError(
          "sudo",
          `${c.target} logs in as uid ${probe.uid}, and sudo asks for a password there: log in as root, or allow this user passwordless sudo`,
        );
      }
      out(`${SYMBOLS.done} not root on ${c.target}: the install runs through sudo -n`);
    }

    const packageTarball = await npmPack(req.packageDir, local);
    out(`${SYMBOLS.done} packed ${basename(packageTarball)}`);
    const depsTarball = sameNativeAbi(probe) ? await packDependencies(req.packageDir, local) : undefined;
    out(
      depsTarball === undefined
        ? `  ${c.target} runs Node ${probe.nodeVersion} on ${probe.platform}-${probe.arch} (ABI ${probe.abi}), this machine ${process.version} on ${process.platform}-${process.arch}: npm installs the dependencies there (it needs the registry)`
        : `${SYMBOLS.done} packed the production dependencies (same Node ABI ${probe.abi}, ${probe.platform}-${probe.arch})`,
    );
    const uploads = [packageTarball, ...(depsTarball === undefined ? [] : [depsTarball])];
    if (req.caFile !== undefined) {
      // Under a fixed name: the file's own could be anything, even one of the tarballs'.
      uploads.push(join(local, REMOTE_CA_FILE));
      await copyFile(req.caFile, join(local, REMOTE_CA_FILE));
    }
    const scp = await execCommand([
      "scp",
      ...sshOptions(c, "-P"),
      ...uploads,
      `${c.target}:${probe.tempDir}/`,
    ]);
    if (scp.status !== 0) {
      out(`${SYMBOLS.failed} scp to ${c.target} failed: ${scp.stderr.trim()}`);
      return EXIT_RUNTIME;
    }
    out(`${SYMBOLS.done} copied ${uploads.length} file(s) to ${c.target}:${probe.tempDir}`);

    const args = [...req.installArgs];
    if (req.caFile !== undefined) args.push("--crm-ca-file", `${probe.tempDir}/${REMOTE_CA_FILE}`);
    const command = remoteInstallCommand({
      tempDir: probe.tempDir,
      packageTarball: basename(packageTarball),
      depsTarball: depsTarball === undefined ? undefined : basename(depsTarball),
      nodePath: probe.nodePath,
      sudo,
      installArgs: ["--yes", "--secrets-stdin", ...args],
    });
    out(`Running the install on ${c.target}:`);
    remoteCommandRan = true;
    const code = await streamSsh(
      ["ssh", ...sshOptions(c, "-p"), c.target, command],
      renderSecretsEnv(req.secrets),
      req,
    );
    if (code === SSH_FAILED) out(`${SYMBOLS.failed} ssh ${c.target} failed (exit 255)`);
    return code;
  } catch (err) {
    if (!(err instanceof PreflightError)) throw err;
    out(`${SYMBOLS.failed} ${err.message}`);
    out(`Nothing was changed on ${c.target}.`);
    return EXIT_RUNTIME;
  } finally {
    if (!remoteCommandRan) await ssh(`rm -rf ${shellQuote(probe.tempDir)}`);
    await rm(local, { recursive: true, force: true });
  }
}

/** The same native modules load when platform, CPU and Node's module ABI match. */
function sameNativeAbi(probe: RemoteProbe): boolean {
  return (
    probe.platform === process.platform &&
    probe.arch === process.arch &&
    probe.abi === process.versions.modules
  );
}

/** `npm pack` of the package as it is (already built: no lifecycle scripts). */
async function npmPack(packageDir: string, into: string): Promise<string> {
  const r = await execCommand([
    "npm",
    "pack",
    "--ignore-scripts",
    "--json",
    "--pack-destination",
    into,
    packageDir,
  ]);
  if (r.status !== 0) throw new PreflightError("npm-pack", `npm pack failed: ${r.stderr.trim()}`);
  const [packed] = JSON.parse(r.stdout) as Array<{ filename: string }>;
  if (packed === undefined) throw new PreflightError("npm-pack", "npm pack produced no file");
  const path = join(into, packed.filename.replace(/^@/, "").replace("/", "-"));
  await stat(path);
  return path;
}

/** node_modules of the install, laid out as /opt/cvety-sidecar/<version> gets it, as a tarball. */
async function packDependencies(packageDir: string, into: string): Promise<string> {
  const contents = await listPackageContents(packageDir);
  const deps = contents.files.filter((f) => f.rel.startsWith("node_modules/"));
  const dir = join(into, "deps");
  await copyFiles(deps, dir);
  const tarball = join(into, "node_modules.tgz");
  const r = await execCommand(["tar", "-czf", tarball, "-C", dir, "node_modules"]);
  if (r.status !== 0) throw new PreflightError("tar", `tar failed: ${r.stderr.trim()}`);
  return tarball;
}

function streamSsh(argv: string[], input: string, req: SshRolloutRequest): Promise<number> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args, { stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.pipe(req.stdout ?? process.stdout, { end: false });
    child.stderr.pipe(req.stderr ?? process.stderr, { end: false });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal === null ? EXIT_RUNTIME : 128)));
    child.stdin.end(input);
  });
}
