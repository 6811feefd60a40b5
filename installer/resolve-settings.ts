import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { configSchema } from "../daemon/config/config-schema.js";
import { parseMysqlUrl } from "../daemon/config/mysql-url.js";
import { ConfigError, UsageError } from "../daemon/errors.js";
import { type ExistingInstall, mysqlUrlInFile, mysqlUserInFile } from "./existing-install.js";
import { findConfigConflicts } from "./find-config-conflicts.js";
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
  if (flags.bitrixRoot !== undefined && !isAbsolute(flags.bitrixRoot)) {
    throw new UsageError(
      `--bitrix-root "${flags.bitrixRoot}": give the absolute path, e.g. /home/bitrix/www`,
    );
  }
  const caSource = flags.crmCaFile === undefined ? undefined : resolve(flags.crmCaFile);
  if (caSource !== undefined) {
    await readFile(caSource).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--crm-ca-file ${caSource}: ${err.code ?? err.message}`);
    });
  }

  if (keepConfig) {
    const conflicts = await findConfigConflicts(input, {
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
  // A CA given now is copied to LAYOUT.crmCaFile; otherwise the config keeps the one it names.
  const caFile = caSource !== undefined ? LAYOUT.crmCaFile : ex?.crm.ca_file;
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
      ...(caFile === undefined ? {} : { caFile }),
      ...(typeof webhookSourceInFile === "string" ? { webhookSource: webhookSourceInFile } : {}),
      signingSecrets: ex?.crm.signing_secrets ?? [],
    },
    mysql,
    ...(writeback === undefined ? {} : { writeback }),
    stateDir: ex?.state.dir ?? LAYOUT.stateDir,
    logFile: ex?.log.file ?? LAYOUT.logFile,
    httpListen,
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
      ...(storedPassword !== undefined && mysqlUserInFile(existing) === given.userName
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
