import { dirname } from "node:path";
import type { Config } from "../../config/config-schema.js";
import { loadConfig } from "../../config/load-config.js";
import { CrmClient } from "../../delivery/crm-client.js";
import { ConfigError, describeError } from "../../errors.js";
import { createMysqlPool } from "../../mysql/create-mysql-pool.js";
import { createChangeSource } from "../../writeback/create-change-source.js";
import { type CheckResult, fail, ok, skip } from "./check-result.js";
import { checkCrm } from "./crm-checks.js";
import { checkClock, checkGrants, checkMysqlReachable, checkSchema } from "./mysql-checks.js";
import { checkDiskSpace, checkLogWritable, checkStateIntegrity } from "./state-checks.js";
import { checkWritebackSource } from "./writeback-source-check.js";

/**
 * Every check `doctor` runs, in the order it prints them. Groups that need
 * the network (MySQL, CRM, write-back source) run at the same time; inside a
 * group a failed prerequisite turns the checks after it into `skip`.
 */

export interface DoctorRun {
  results: CheckResult[];
  /** The config did not load: nothing else could be checked (exit 78). */
  configFailed: boolean;
}

/** doctor waits at most this long for MySQL to accept a connection. */
const DOCTOR_CONNECT_TIMEOUT_MS = 5_000;

export async function runDoctor(opts: {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  clock?: () => number;
}): Promise<DoctorRun> {
  let config: Config;
  try {
    config = await loadConfig({ path: opts.configPath, ...(opts.env ? { env: opts.env } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const fix = err.key
      ? `fix ${err.key}${err.file ? ` in ${err.file}` : ""}, then run doctor again`
      : "fix the file named above, then run doctor again";
    return { results: [fail("config", err.message.split("\n").join("; "), fix)], configFailed: true };
  }
  const results: CheckResult[] = [ok("config", `${config.file} valid${describeSources(config)}`)];
  const [mysql, crm, writeback] = await Promise.all([
    mysqlChecks(config, opts.clock),
    crmChecks(config),
    writebackChecks(config),
  ]);
  results.push(...mysql, ...crm, writeback);
  results.push(checkStateIntegrity(config));
  results.push(await checkDiskSpace("state", config.state.dir));
  if (config.log.file !== "-") results.push(await checkDiskSpace("log", dirname(config.log.file)));
  results.push(await checkLogWritable(config));
  return { results, configFailed: false };
}

function describeSources(config: Config): string {
  const source = config.mysqlTarget.source;
  return source === "config" ? "" : ` (MySQL credentials from ${source})`;
}

async function mysqlChecks(config: Config, clock?: () => number): Promise<CheckResult[]> {
  const pool = createMysqlPool(config.mysqlTarget, {
    connectTimeoutMs: Math.min(config.mysql.connect_timeout_ms, DOCTOR_CONNECT_TIMEOUT_MS),
    poolSize: 1,
  });
  try {
    const reachable = await checkMysqlReachable(pool, config.mysqlTarget);
    if (reachable.status === "fail") {
      const why = "MySQL unreachable";
      return [
        reachable,
        skip("mysql grants", why),
        skip("bitrix tables", why),
        skip("mysql clock", why),
        skip("bitrix DATE_UPDATE", why),
      ];
    }
    const grants = await checkGrants(pool, config);
    const schema = await checkSchema(pool, config, grants.hiddenTables);
    const clockResults = await checkClock(pool, config, clock);
    return [reachable, grants.result, schema, ...clockResults];
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function crmChecks(config: Config): Promise<CheckResult[]> {
  let client: CrmClient;
  try {
    client = new CrmClient({
      url: config.crm.url,
      caFile: config.crm.ca_file,
      connectTimeoutMs: config.crm.connect_timeout_ms,
      headersTimeoutMs: config.crm.headers_timeout_ms,
      bodyTimeoutMs: config.crm.body_timeout_ms,
      connections: 1,
    });
  } catch (err) {
    return [
      fail("crm reachable", describeError(err), "fix [crm] ca_file: a readable PEM file with the CRM's CA"),
      skip("crm token", "no CRM client"),
    ];
  }
  try {
    return await checkCrm(config, client);
  } finally {
    await client.close();
  }
}

async function writebackChecks(config: Config): Promise<CheckResult> {
  if (!config.writeback.enabled)
    return skip("writeback source", "write-back disabled ([writeback] enabled = false)");
  let source: ReturnType<typeof createChangeSource>;
  try {
    source = createChangeSource(config.writeback);
  } catch (err) {
    return fail("writeback source", describeError(err), "fix [writeback] url, token and ca_file");
  }
  try {
    return await checkWritebackSource(config, source);
  } finally {
    await source.close();
  }
}
