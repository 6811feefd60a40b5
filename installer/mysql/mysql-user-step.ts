import { randomBytes } from "node:crypto";
import type { MysqlTarget } from "../../daemon/config/config-schema.js";
import { describeError } from "../../daemon/errors.js";
import {
  createMysqlPool,
  MYSQL_GRANT_ERROR_CODES,
  mysqlErrorCode,
  selectStrings,
} from "../../daemon/mysql/create-mysql-pool.js";
import { CAPTURE_COLUMNS, checkBitrixSchema } from "../../daemon/ops/bitrix-schema-check.js";
import { InstallStepError } from "../install-errors.js";
import type { MysqlSettings } from "../install-settings.js";
import type { PlanItem, Step } from "../plan/plan-item.js";
import {
  describeGrants,
  grantStatements,
  privilegeKey,
  privilegeKeys,
  sidecarGrants,
} from "./sidecar-grants.js";

/**
 * `--create-mysql-user`: a MySQL user of the sidecar's own with the least
 * privileges (sidecar-grants.ts), made with the admin credentials (Bitrix's
 * own, --mysql-url or --mysql-admin-url). The host part is the one the
 * server sees for this connection (USER()), which is where the daemon on
 * this host connects from too. A re-run logs in as the user with the
 * password kept in secrets.env: if that works and the grants are exactly
 * the expected ones, nothing changes; otherwise the password and grants are
 * set again. MySQL is changed for real even under --root.
 */

const CONNECT_TIMEOUT_MS = 5_000;

export function mysqlUserStep(opts: { admin: MysqlTarget; name: string; mysql: MysqlSettings }): Step {
  return {
    title: "MySQL user",
    async plan() {
      const { admin, name } = opts;
      const database = admin.database;
      const host = await clientHost(admin);
      const account = `'${name}'@'${host}'`;
      const password = opts.mysql.password ?? randomBytes(24).toString("base64url");
      // The config and secrets steps that follow write what this step settles on.
      opts.mysql.password = password;
      opts.mysql.configUrl = sidecarUrl(admin, name);
      opts.mysql.secretUrl = undefined;

      const grants = sidecarGrants();
      const expected = privilegeKeys(database, grants);
      const current = await ownPrivileges({ ...admin, user: name, password });
      if (current !== undefined && sameSet(current, expected)) {
        return [{ kind: "unchanged", what: `unchanged MySQL user ${account} (${describeGrants(grants)})` }];
      }
      const verb = current === undefined ? "set up" : "reset the grants of";
      const item: PlanItem = {
        kind: "change",
        done: `${verb} MySQL user ${account}: ${describeGrants(grants)}`,
        planned: `${verb} MySQL user ${account}: ${describeGrants(grants)}`,
        tags: ["mysql-user"],
        apply: async () => {
          await withPool(admin, async (db) => {
            try {
              await db.query("CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?", [name, host, password]);
              await db.query("ALTER USER ?@? IDENTIFIED BY ?", [name, host, password]);
              await db.query("REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@?", [name, host]);
              for (const g of grantStatements(database, { name, host }, grants))
                await db.query(g.sql, g.params);
            } catch (err) {
              const hint = MYSQL_GRANT_ERROR_CODES.has(mysqlErrorCode(err) ?? "")
                ? `: ${admin.user} may not create users or grant these privileges; give an admin with --mysql-admin-url`
                : "";
              throw new InstallStepError(
                "E_MYSQL_USER",
                `creating ${account} failed: ${describeError(err)}${hint}`,
                {
                  cause: err,
                },
              );
            }
          });
          await verifyAsUser({ ...admin, user: name, password }, account);
        },
      };
      return [item];
    },
  };
}

/** mysql://name@host:port/db[?socket=...]: the config's [mysql] url, password in secrets.env. */
export function sidecarUrl(target: MysqlTarget, name: string): string {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  const socket = target.socketPath === undefined ? "" : `?socket=${encodeURIComponent(target.socketPath)}`;
  return `mysql://${encodeURIComponent(name)}@${host}:${target.port}/${encodeURIComponent(target.database)}${socket}`;
}

async function withPool<T>(
  target: MysqlTarget,
  run: (db: ReturnType<typeof createMysqlPool>) => Promise<T>,
): Promise<T> {
  const pool = createMysqlPool(target, { connectTimeoutMs: CONNECT_TIMEOUT_MS, poolSize: 1 });
  try {
    return await run(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function clientHost(admin: MysqlTarget): Promise<string> {
  return withPool(admin, async (db) => {
    const [row] = await selectStrings(db, "SELECT SUBSTRING_INDEX(USER(), '@', -1) AS host");
    return row?.["host"] ?? "localhost";
  });
}

/** The user's privileges as the server reports them to the user itself; undefined when it cannot log in. */
async function ownPrivileges(target: MysqlTarget): Promise<Set<string> | undefined> {
  try {
    return await withPool(target, async (db) => {
      const keys = new Set<string>();
      for (const r of await selectStrings(
        db,
        "SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES",
      )) {
        if (r["p"] !== "USAGE") keys.add(`${r["p"]} ON *.*`);
      }
      for (const r of await selectStrings(
        db,
        "SELECT PRIVILEGE_TYPE AS p, TABLE_SCHEMA AS s FROM information_schema.SCHEMA_PRIVILEGES",
      )) {
        keys.add(`${r["p"]} ON ${r["s"]}.*`);
      }
      const tables =
        "SELECT PRIVILEGE_TYPE AS p, TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLE_PRIVILEGES";
      for (const r of await selectStrings(db, tables))
        keys.add(privilegeKey(r["p"] ?? "", r["s"] ?? "", r["t"] ?? ""));
      const columns = `SELECT PRIVILEGE_TYPE AS p, TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c
                       FROM information_schema.COLUMN_PRIVILEGES`;
      for (const r of await selectStrings(db, columns)) {
        keys.add(privilegeKey(r["p"] ?? "", r["s"] ?? "", r["t"] ?? "", r["c"] ?? ""));
      }
      return keys;
    });
  } catch {
    // Cannot log in (no such user yet, other password): the step sets it up.
    return undefined;
  }
}

/** Logs in as the new user and checks it sees what capture reads. */
async function verifyAsUser(target: MysqlTarget, account: string): Promise<void> {
  const { missing } = await withPool(target, (db) =>
    checkBitrixSchema(db, target.database, CAPTURE_COLUMNS),
  ).catch((err: unknown) => {
    throw new InstallStepError(
      "E_MYSQL_USER",
      `${account} was created but cannot log in: ${describeError(err)}`,
    );
  });
  if (missing.length > 0) {
    throw new InstallStepError(
      "E_MYSQL_USER",
      `${account} cannot see ${missing.join(", ")} after the grants`,
    );
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
