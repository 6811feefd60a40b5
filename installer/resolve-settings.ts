import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { configSchema } from "../daemon/config/config-schema.js";
import { parseMysqlUrl } from "../daemon/config/mysql-url.js";
import { ConfigError, UsageError } from "../daemon/errors.js";
import { type ExistingInstall, mysqlUrlInFile } from "./existing-install.js";
import type { HostSystem } from "./host-system.js";
import {
  DEFAULT_BITRIX_ROOT,
  DEFAULT_HTTP_LISTEN,
  DEFAULT_MYSQL_USER_NAME,
  LAYOUT,
} from "./install-layout.js";
import type { InstallSettings, MysqlSettings } from "./install-settings.js";
import { renderSecretsEnv } from "./render/secrets-env-file.js";

/**
 * Turns flags, environment, a previous install and answers to prompts into
 * InstallSettings. First wins: flag, environment variable, previous install,
 * default, prompt (only on a terminal). A missing input without a terminal
 * is a usage error naming the flag. When config.toml exists it is kept
 * unless --force, so a flag that contradicts it is an error too: the ops
 * person should not believe a new URL was installed when it was not.
 */

export interface InstallFlags {
  crmUrl?: string;
  crmToken?: string;
  crmCaFile?: string;
  bitrixRoot?: string;
  mysqlUrl?: string;
  createMysqlUser?: boolean;
  mysqlUserName?: string;
  mysqlAdminUrl?: string;
  writebackSource?: string;
  writebackUrl?: string;
  writebackToken?: string;
  httpListen?: string;
  disablePhpHook?: boolean;
  force?: boolean;
  healthTimeoutS?: string;
}

export type Prompt = (question: string, opts: { secret: boolean }) => Promise<string>;

export interface ResolveInput {
  flags: InstallFlags;
  env: NodeJS.ProcessEnv;
  existing: ExistingInstall;
  system: HostSystem;
  /** Present only on a terminal without --yes. */
  prompt: Prompt | undefined;
  packageDir: string;
  version: string;
  nodePath: string;
}

const DEFAULT_HEALTH_TIMEOUT_S = 30;
/** --mysql-admin-url from the environment (it holds a password). */
export const MYSQL_ADMIN_URL_ENV = "CVETY_SIDECAR_MYSQL_ADMIN_URL";

export async function resolveSettings(input: ResolveInput): Promise<InstallSettings> {
  const { flags, env, existing } = input;
  if (existing.problem !== undefined && !flags.force) {
    throw new ConfigError(
      `${existing.problem}\n(fix it, or run install with --force to write a new config.toml)`,
      {
        file: LAYOUT.configFile,
      },
    );
  }
  const ex = existing.config;
  const keepConfig = ex !== undefined && !flags.force;
  const fromEnv = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  const tokenGiven = flags.crmToken ?? fromEnv("CVETY_SIDECAR_CRM_TOKEN");
  const mysqlUrlGiven = flags.mysqlUrl ?? fromEnv("CVETY_SIDECAR_MYSQL_URL");
  const writebackTokenGiven = flags.writebackToken ?? fromEnv("CVETY_SIDECAR_WRITEBACK_TOKEN");
  const adminUrlGiven = flags.mysqlAdminUrl ?? fromEnv(MYSQL_ADMIN_URL_ENV);
  const userName = flags.mysqlUserName ?? DEFAULT_MYSQL_USER_NAME;
  if (!/^[A-Za-z0-9_]{1,32}$/.test(userName)) {
    throw new UsageError(`--mysql-user-name "${userName}": use 1-32 letters, digits and _`);
  }
  for (const [flag, url] of [
    ["--mysql-url", mysqlUrlGiven],
    ["--mysql-admin-url", adminUrlGiven],
  ] as const) {
    if (url !== undefined) {
      checkMysqlUrl(flag, url);
      checkSecret(flag, url);
    }
  }
  const caSource = flags.crmCaFile === undefined ? undefined : resolve(flags.crmCaFile);
  if (caSource !== undefined) {
    await readFile(caSource).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--crm-ca-file ${caSource}: ${err.code ?? err.message}`);
    });
  }

  if (keepConfig) {
    const conflicts = await findConflicts(input, {
      tokenGiven,
      mysqlUrlGiven,
      writebackTokenGiven,
      userName,
      caSource,
    });
    if (conflicts.length > 0) {
      throw new UsageError(
        `${LAYOUT.configFile} exists and is kept, but ${conflicts.join("; ")}.\n` +
          "Run again with --force to replace the config (the old one is saved as config.toml.<time>.bak), or leave those flags out.",
      );
    }
  }

  const ask = async (question: string, flag: string, secret = false): Promise<string> => {
    if (input.prompt === undefined) throw new UsageError(`missing ${flag} (no terminal to ask on)`);
    const answer = (await input.prompt(question, { secret })).trim();
    if (answer === "") throw new UsageError(`missing ${flag}`);
    return answer;
  };
  const crmUrl =
    flags.crmUrl ??
    ex?.crm.url ??
    (await ask("CRM webhook URL (https://.../webhooks/bitrix/order): ", "--crm-url"));
  checkHttpUrl("--crm-url", crmUrl);
  const token =
    tokenGiven ??
    ex?.crm.token ??
    (await ask("CRM token: ", "--crm-token (or CVETY_SIDECAR_CRM_TOKEN)", true));
  checkSecret("--crm-token", token);
  const httpListen = flags.httpListen ?? ex?.http.listen ?? DEFAULT_HTTP_LISTEN;
  if (!configSchema.shape.http.safeParse({ listen: httpListen }).success) {
    throw new UsageError(`--http-listen "${httpListen}": expected host:port, e.g. 127.0.0.1:9465, or off`);
  }
  const timeoutS = Number(flags.healthTimeoutS ?? DEFAULT_HEALTH_TIMEOUT_S);
  if (!(timeoutS > 0 && timeoutS <= 600)) throw new UsageError("--health-timeout: 1 to 600 seconds");

  const writeback = resolveWriteback(flags, ex, writebackTokenGiven);
  const mysql = resolveMysql(flags, existing, { mysqlUrlGiven, adminUrlGiven, userName });
  const webhookSourceInFile = (existing.document?.["crm"] as Record<string, unknown> | undefined)?.[
    "webhook_source"
  ];

  return {
    packageDir: input.packageDir,
    version: input.version,
    nodePath: input.nodePath,
    bitrixRoot: flags.bitrixRoot ?? ex?.bitrix.root ?? DEFAULT_BITRIX_ROOT,
    crm: {
      url: crmUrl,
      token,
      ...(caSource === undefined ? {} : { caSource }),
      ...(caSource !== undefined
        ? { caFile: LAYOUT.crmCaFile }
        : ex?.crm.ca_file === undefined
          ? {}
          : { caFile: ex.crm.ca_file }),
      ...(typeof webhookSourceInFile === "string" ? { webhookSource: webhookSourceInFile } : {}),
      signingSecrets: ex?.crm.signing_secrets ?? [],
    },
    mysql,
    ...(writeback === undefined ? {} : { writeback }),
    stateDir: ex?.state.dir ?? LAYOUT.stateDir,
    logFile: ex?.log.file ?? LAYOUT.logFile,
    httpListen,
    configExists: ex !== undefined || existing.problem !== undefined,
    keepConfig,
    existingSecrets: existing.secrets,
    disablePhpHook: flags.disablePhpHook === true,
    healthTimeoutMs: timeoutS * 1000,
  };
}

function resolveWriteback(
  flags: InstallFlags,
  ex: ExistingInstall["config"],
  tokenGiven: string | undefined,
): InstallSettings["writeback"] {
  const given = flags.writebackUrl !== undefined || flags.writebackSource !== undefined;
  if (!given) {
    if (ex?.writeback.enabled !== true || ex.writeback.url === undefined || ex.writeback.token === undefined)
      return undefined;
    return { source: ex.writeback.source, url: ex.writeback.url, token: tokenGiven ?? ex.writeback.token };
  }
  const source = flags.writebackSource ?? ex?.writeback.source ?? "supabase";
  if (source !== "supabase" && source !== "feed")
    throw new UsageError(`--writeback-source "${source}": supabase or feed`);
  const url = flags.writebackUrl ?? ex?.writeback.url;
  if (url === undefined)
    throw new UsageError("missing --writeback-url (write-back needs the URL to pull from)");
  checkHttpUrl("--writeback-url", url);
  const token = tokenGiven ?? ex?.writeback.token;
  if (token === undefined)
    throw new UsageError("missing --writeback-token (or CVETY_SIDECAR_WRITEBACK_TOKEN)");
  checkSecret("--writeback-token", token);
  return { source, url, token };
}

/** Where the daemon's MySQL credentials come from: a created user, --mysql-url, the previous install, or Bitrix. */
function resolveMysql(
  flags: InstallFlags,
  existing: ExistingInstall,
  given: { mysqlUrlGiven: string | undefined; adminUrlGiven: string | undefined; userName: string },
): MysqlSettings {
  const storedPassword = existing.secrets["CVETY_SIDECAR_MYSQL_PASSWORD"];
  const fileUrl = mysqlUrlInFile(existing);
  if (flags.createMysqlUser) {
    const adminUrl = given.adminUrlGiven ?? given.mysqlUrlGiven;
    return {
      createUser: { name: given.userName, ...(adminUrl === undefined ? {} : { adminUrl }) },
      // The user's password from the last install, if it was this user.
      ...(storedPassword !== undefined && urlUser(fileUrl) === given.userName
        ? { password: storedPassword }
        : {}),
    };
  }
  if (given.mysqlUrlGiven !== undefined) return { secretUrl: given.mysqlUrlGiven };
  const secretUrl = existing.secrets["CVETY_SIDECAR_MYSQL_URL"];
  return {
    ...(fileUrl === undefined ? {} : { configUrl: fileUrl }),
    ...(secretUrl === undefined ? {} : { secretUrl }),
    ...(storedPassword === undefined ? {} : { password: storedPassword }),
  };
}

interface GivenValues {
  tokenGiven: string | undefined;
  mysqlUrlGiven: string | undefined;
  writebackTokenGiven: string | undefined;
  userName: string;
  caSource: string | undefined;
}

async function findConflicts(input: ResolveInput, given: GivenValues): Promise<string[]> {
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
  if (flags.createMysqlUser && urlUser(mysqlUrlInFile(existing)) !== given.userName) {
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

function urlUser(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return decodeURIComponent(new URL(url).username);
}

function checkMysqlUrl(flag: string, url: string): void {
  try {
    parseMysqlUrl(url, { file: flag });
  } catch (err) {
    if (err instanceof ConfigError)
      throw new UsageError(err.message.replace(`${flag}: mysql.url: `, `${flag}: `));
    throw err;
  }
}

function checkHttpUrl(flag: string, url: string): void {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`${flag} "${url}": expected an http(s) URL`);
  }
}

function checkSecret(flag: string, value: string): void {
  if (value === "") throw new UsageError(`${flag}: empty`);
  try {
    // The same rules as when secrets.env is written, checked before anything is.
    renderSecretsEnv({ VALUE: value });
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message.replace(/^VALUE /, "")}`);
  }
}
