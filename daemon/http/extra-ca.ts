import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { ConfigError } from "../errors.js";

/**
 * The CA list for an HTTPS client given an optional extra CA file: the
 * system's roots plus that file (added, never replacing them), or undefined
 * for the defaults. TLS is always verified; this only widens whom we trust.
 */
export function caWithExtra(caFile: string | undefined, configKey: string): string[] | undefined {
  if (!caFile) return undefined;
  try {
    return [...rootCertificates, readFileSync(caFile, "utf8")];
  } catch (err) {
    throw new ConfigError(`${configKey}: cannot read ${caFile}: ${(err as Error).message}`, {
      key: configKey,
      cause: err,
    });
  }
}
