import { join } from "node:path";
import { readBitrixMysqlCredentials } from "../../daemon/config/bitrix-credentials.js";
import type { MysqlTarget } from "../../daemon/config/config-schema.js";
import { parseMysqlUrl } from "../../daemon/config/mysql-url.js";
import { ConfigError } from "../../daemon/errors.js";
import type { HostSystem } from "../host-system.js";
import { PreflightError } from "../install-errors.js";
import type { InstallSettings } from "../install-settings.js";
import { detectPhpHooks } from "../php-hook/php-hook-steps.js";
import { SYMBOLS } from "../plan/run-steps.js";
import { checkCrm } from "./crm-checks.js";
import {
  checkBitrixRoot,
  checkLinux,
  checkNode,
  checkRoot,
  checkServiceCan,
  checkSystemd,
} from "./host-checks.js";
import { checkMysql, describeTarget } from "./mysql-checks.js";

/**
 * Every check before any change, each printing one line; the first failure
 * throws PreflightError and nothing has been written. A warning (the old PHP
 * hook still active) is printed but does not stop the install.
 */

export interface HostFacts {
  platform: NodeJS.Platform;
  uid: number;
  nodeVersion: string;
  /** package.json engines.node of the package being installed. */
  engines: string | undefined;
}

export interface PreflightResult {
  /** The credentials the checks used: the admin ones with --create-mysql-user, else the daemon's. */
  mysqlTarget: MysqlTarget;
}

export async function runPreflight(
  s: InstallSettings,
  system: HostSystem,
  host: HostFacts,
  out: (line: string) => void,
): Promise<PreflightResult> {
  const ok = (line: string) => out(`${SYMBOLS.done} ${line}`);
  ok(checkLinux(host.platform));
  ok(checkRoot(host.uid, system.staged));
  ok(await checkSystemd(system));
  ok(checkNode(host.nodeVersion, host.engines, s.nodePath));
  await checkServiceCan(
    "execute",
    s.nodePath,
    (p) => p,
    "install Node.js system-wide (e.g. /usr/bin/node from NodeSource or Debian) and run the installer with it",
  );
  ok(await checkBitrixRoot(system, s.bitrixRoot));

  const target = await preflightMysqlTarget(s, system);
  const daemonUsesSettings =
    s.mysql.createUser === undefined && s.mysql.configUrl === undefined && s.mysql.secretUrl === undefined;
  if (daemonUsesSettings) {
    await checkServiceCan(
      "read",
      join(s.bitrixRoot, "bitrix", ".settings.php"),
      (p) => system.path(p),
      "use --create-mysql-user (recommended) or --mysql-url instead",
    ).catch((err: unknown) => {
      // Only the legacy dbconn.php may exist: then that file is what the daemon reads.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    });
  }
  const facts = await checkMysql(target, { writeback: s.writeback !== undefined });
  ok(`MySQL ${facts.serverVersion} answers as ${describeTarget(target)}`);
  ok(`Bitrix tables and columns present${s.writeback === undefined ? "" : " (write-back included)"}`);
  const env = facts.environment;
  ok(
    `database charset ${env.charset} (${env.collation}); MySQL time zone ${env.timeZone} (system ${env.systemTimeZone}), now ${env.now}`,
  );

  const caFile = s.crm.caSource ?? (s.crm.caFile === undefined ? undefined : system.path(s.crm.caFile));
  for (const line of await checkCrm({
    url: s.crm.url,
    token: s.crm.token,
    ...(caFile === undefined ? {} : { caFile }),
    ...(s.crm.webhookSource === undefined ? {} : { webhookSource: s.crm.webhookSource }),
    signingSecrets: s.crm.signingSecrets,
  })) {
    ok(line);
  }

  if (!s.disablePhpHook) {
    const hooks = await detectPhpHooks(system, s.bitrixRoot).catch(() => []);
    for (const hook of hooks) {
      out(
        `${SYMBOLS.warning} the old PHP webhook is active in ${hook.path} (${hook.finding.reasons.join("; ")}): orders would reach the CRM twice; run again with --disable-php-hook to switch it off`,
      );
    }
  }
  return { mysqlTarget: target };
}

/** With --create-mysql-user: the admin credentials; otherwise the ones the daemon will use. */
async function preflightMysqlTarget(s: InstallSettings, system: HostSystem): Promise<MysqlTarget> {
  const fromUrl = (url: string, source: string, password?: string): MysqlTarget => {
    const target = { ...parseMysqlUrl(url, { file: source }), source };
    return password === undefined ? target : { ...target, password };
  };
  const create = s.mysql.createUser;
  if (create?.adminUrl !== undefined) return fromUrl(create.adminUrl, "--mysql-admin-url / --mysql-url");
  if (s.mysql.secretUrl !== undefined) return fromUrl(s.mysql.secretUrl, "CVETY_SIDECAR_MYSQL_URL");
  if (create === undefined && s.mysql.configUrl !== undefined) {
    return fromUrl(s.mysql.configUrl, "[mysql] url", s.mysql.password);
  }
  try {
    return await readBitrixMysqlCredentials(system.path(s.bitrixRoot));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new PreflightError(
      "mysql-credentials",
      `${err.message}\n(give the credentials with --mysql-url mysql://user:password@host:3306/database)`,
      { cause: err },
    );
  }
}
