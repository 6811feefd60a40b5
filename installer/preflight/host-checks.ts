import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HostSystem } from "../host-system.js";
import { PreflightError } from "../install-errors.js";

/** Linux, root, systemd, Node: what the host must offer before anything is changed. */

export function checkLinux(platform: NodeJS.Platform): string {
  if (platform !== "linux") {
    throw new PreflightError(
      "linux",
      `this is ${platform}: the sidecar installs as a systemd service on Linux only`,
    );
  }
  return "Linux";
}

export function checkRoot(uid: number, staged: boolean): string {
  if (staged) return "not checking for root (--root: staged install)";
  if (uid !== 0) {
    throw new PreflightError(
      "root",
      "install must run as root (it creates a system user and writes /etc, /opt and /var): run it with sudo",
    );
  }
  return "running as root";
}

/** sd_booted(): systemd is PID 1 when /run/systemd/system exists. */
export async function checkSystemd(system: HostSystem): Promise<string> {
  if (system.staged) return "not checking systemd (--root: staged install)";
  const booted = await stat(system.path("/run/systemd/system")).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!booted)
    throw new PreflightError("systemd", "systemd is not running on this host (no /run/systemd/system)");
  const version = await system.query(["systemctl", "--version"]);
  if (version.status !== 0) throw new PreflightError("systemd", "systemctl is not available");
  return `systemd ${/systemd (\d+)/.exec(version.stdout)?.[1] ?? ""}`.trim();
}

/** `>=20.18.1` from package.json engines; Node >= 20 is the floor whatever it says. */
export function checkNode(version: string, engines: string | undefined, execPath: string): string {
  const have = parseVersion(version);
  const floor = parseVersion(/>=\s*v?([\d.]+)/.exec(engines ?? "")?.[1] ?? "20.0.0");
  const need = compareVersions(floor, [20, 0, 0]) > 0 ? floor : [20, 0, 0];
  if (compareVersions(have, need) < 0) {
    throw new PreflightError(
      "node",
      `Node.js ${version} is too old: cvety-sidecar needs ${need.join(".")} or newer`,
    );
  }
  return `Node.js ${version} (${execPath})`;
}

export function parseVersion(text: string): number[] {
  const parts = text
    .replace(/^v/, "")
    .split(".")
    .map((p) => Number.parseInt(p, 10) || 0);
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export async function checkBitrixRoot(system: HostSystem, bitrixRoot: string): Promise<string> {
  const host = system.path(bitrixRoot);
  const isDir = await stat(join(host, "bitrix")).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    throw new PreflightError(
      "bitrix",
      `no Bitrix site at ${bitrixRoot} (there is no ${join(bitrixRoot, "bitrix")} folder): give the site root with --bitrix-root`,
    );
  }
  return `Bitrix site at ${bitrixRoot}`;
}

/**
 * The service runs as its own user, so what it reads outside its own
 * folders must be open to others: every folder on the way searchable, the
 * file readable (Bitrix's .settings.php, when there is no MySQL URL) or
 * executable (the Node binary: one installed under /root by nvm is not).
 * `toHost` maps the system path to where it is read (the stage under --root).
 */
export async function checkServiceCan(
  need: "read" | "execute",
  path: string,
  toHost: (path: string) => string,
  fix: string,
): Promise<void> {
  await access(toHost(path), constants.F_OK);
  const chain: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    const info = await stat(toHost(p));
    const bit = p !== path ? 0o001 : need === "read" ? 0o004 : 0o001;
    if ((info.mode & bit) === 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      const what = p !== path ? "search" : need;
      throw new PreflightError(
        "service-access",
        `the service user could not ${need} ${path}: ${p} is mode ${mode} (no ${what} permission for others); ${fix}`,
      );
    }
  }
}
