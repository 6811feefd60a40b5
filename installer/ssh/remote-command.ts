import { UsageError } from "../../daemon/errors.js";
import { shellQuote } from "../shell-quote.js";

/**
 * ssh runs a command line through the remote user's shell: there is no
 * argument array on the far side. Everything that goes into that line is
 * either a constant of this file or passed through shellQuote(), and the
 * secrets do not go into it at all (they travel on stdin).
 */

/** `user@host` or `host`; never something ssh would read as an option. */
export function checkSshTarget(target: string): string {
  if (!/^(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9.:[\]_-]+$/.test(target) || target.startsWith("-")) {
    throw new UsageError(`--ssh "${target}": expected user@host`);
  }
  return target;
}

export interface SshConnection {
  target: string;
  port?: string;
  identity?: string;
  /** Extra `-o Key=Value` options (known_hosts file, jump host...). */
  options: readonly string[];
}

/** Options shared by ssh and scp; BatchMode: never hang on a password prompt. */
export function sshOptions(c: SshConnection, portFlag: "-p" | "-P"): string[] {
  if (c.port !== undefined && !/^\d{1,5}$/.test(c.port))
    throw new UsageError(`--ssh-port "${c.port}": expected a port number`);
  for (const o of c.options) {
    if (!/^[A-Za-z][A-Za-z0-9]*=/.test(o)) throw new UsageError(`--ssh-option "${o}": expected Key=Value`);
  }
  return [
    "-o",
    "BatchMode=yes",
    ...(c.port === undefined ? [] : [portFlag, c.port]),
    ...(c.identity === undefined ? [] : ["-i", c.identity]),
    ...c.options.flatMap((o) => ["-o", o]),
  ];
}

/** Prints node's path, `version platform arch abi`, the uid, and a fresh 0700 temp folder. */
export const REMOTE_PROBE_SCRIPT = [
  'node_path=$(command -v node) || { echo "cvety-sidecar: node is not installed on this host" >&2; exit 3; }',
  'echo "$node_path"',
  `"$node_path" -e 'console.log([process.version, process.platform, process.arch, process.versions.modules].join(" "))'`,
  "id -u",
  "mktemp -d /tmp/cvety-sidecar.XXXXXXXX",
].join("; ");

export interface RemoteProbe {
  nodePath: string;
  nodeVersion: string;
  platform: string;
  arch: string;
  abi: string;
  uid: number;
  tempDir: string;
}

export function parseRemoteProbe(stdout: string): RemoteProbe {
  const [nodePath, versions, uid, tempDir] = stdout
    .trim()
    .split("\n")
    .map((l) => l.trim());
  const [nodeVersion, platform, arch, abi] = (versions ?? "").split(" ");
  if (
    !nodePath ||
    !nodeVersion ||
    !platform ||
    !arch ||
    !abi ||
    !uid ||
    !tempDir?.startsWith("/tmp/cvety-sidecar.")
  ) {
    throw new Error(`unexpected answer from the remote host: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
  return { nodePath, nodeVersion, platform, arch, abi, uid: Number(uid), tempDir };
}

/**
 * Unpacks the package (and the dependencies, when shipped; otherwise npm
 * installs them there), runs the installer with the secrets on stdin, and
 * always removes the temp folder; the installer's exit code is ssh's.
 */
export function remoteInstallCommand(opts: {
  tempDir: string;
  packageTarball: string;
  depsTarball: string | undefined;
  nodePath: string;
  sudo: boolean;
  installArgs: readonly string[];
}): string {
  const dir = shellQuote(opts.tempDir);
  const unpackDeps =
    opts.depsTarball === undefined
      ? "(cd package && npm install --omit=dev --no-audit --no-fund --no-package-lock >&2)"
      : `tar -xzf ${shellQuote(opts.depsTarball)} -C package`;
  const run = [
    ...(opts.sudo ? ["sudo", "-n"] : []),
    opts.nodePath,
    "package/dist/daemon/cli/bin.js",
    "install",
    ...opts.installArgs,
  ].map(shellQuote);
  return [
    `trap ${shellQuote(`rm -rf ${dir}`)} EXIT`,
    `cd ${dir}`,
    `tar -xzf ${shellQuote(opts.packageTarball)}`,
    unpackDeps,
    run.join(" "),
  ].join(" && ");
}
