import { readFile } from "node:fs/promises";
import { mysqlUserInFile } from "./existing-install.js";
import type { ResolveInput } from "./resolve-settings.js";

/**
 * An existing config.toml is kept unless --force. A flag that says something
 * else than the kept config would silently not take effect, so each such
 * flag is named (secrets without their values) and the install stops.
 */

export interface GivenValues {
  tokenGiven: string | undefined;
  mysqlUrlGiven: string | undefined;
  writebackTokenGiven: string | undefined;
  userName: string;
  caSource: string | undefined;
}

export async function findConfigConflicts(input: ResolveInput, given: GivenValues): Promise<string[]> {
  const { flags, existing, system } = input;
  const ex = existing.config;
  if (ex === undefined) return [];
  const out: string[] = [];
  const differs = (
    flag: string,
    value: string | undefined,
    current: string | undefined,
    key: string,
    show = true,
  ) => {
    if (value !== undefined && value !== current) {
      out.push(
        show
          ? `${flag} ${value} differs from ${key} = ${current ?? "(not set)"}`
          : `${flag} differs from ${key}`,
      );
    }
  };
  differs("--crm-url", flags.crmUrl, ex.crm.url, "crm.url");
  differs("--crm-token", given.tokenGiven, ex.crm.token, "the token in secrets.env", false);
  differs("--bitrix-root", flags.bitrixRoot, ex.bitrix.root, "bitrix.root");
  differs("--http-listen", flags.httpListen, ex.http.listen, "http.listen");
  // With --create-mysql-user, --mysql-url holds the admin's credentials, not the daemon's.
  if (!flags.createMysqlUser)
    differs("--mysql-url", given.mysqlUrlGiven, ex.mysql.url, "the MySQL URL in use", false);
  differs("--writeback-url", flags.writebackUrl, ex.writeback.url, "writeback.url");
  differs(
    "--writeback-source",
    flags.writebackSource,
    ex.writeback.enabled ? ex.writeback.source : undefined,
    "writeback.source",
  );
  differs(
    "--writeback-token",
    given.writebackTokenGiven,
    ex.writeback.token,
    "the write-back token in secrets.env",
    false,
  );
  if (flags.createMysqlUser && mysqlUserInFile(existing) !== given.userName) {
    out.push(`--create-mysql-user would point [mysql] url at the user ${given.userName}`);
  }
  if (given.caSource !== undefined) {
    const current =
      ex.crm.ca_file === undefined
        ? undefined
        : await readFile(system.path(ex.crm.ca_file)).catch(() => undefined);
    const wanted = await readFile(given.caSource);
    if (current === undefined || !current.equals(wanted))
      out.push(`--crm-ca-file differs from crm.ca_file = ${ex.crm.ca_file ?? "(not set)"}`);
  }
  return out;
}
