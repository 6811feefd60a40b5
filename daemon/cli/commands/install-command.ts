import { existsSync } from "node:fs";
import { type Command, Option } from "commander";
import { install } from "../../../installer/install.js";
import { parseSecretsEnv } from "../../../installer/render/secrets-env-file.js";
import { type InstallFlags, MYSQL_ADMIN_URL_ENV } from "../../../installer/resolve-settings.js";
import { checkSshTarget } from "../../../installer/ssh/remote-command.js";
import { sshRollout } from "../../../installer/ssh/ssh-rollout.js";
import { createTerminalPrompt, isInteractive } from "../../../installer/terminal-prompt.js";
import { UsageError } from "../../errors.js";
import { PACKAGE_DIR } from "../../version.js";

/** `cvety-sidecar install`: see installer/install.ts. */

export interface InstallCommandOptions extends Omit<InstallFlags, "healthTimeoutS"> {
  dryRun?: boolean;
  yes?: boolean;
  root?: string;
  healthTimeout?: string;
  ssh?: string;
  sshPort?: string;
  identity?: string;
  sshOption: string[];
  secretsStdin?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerInstallCommand(program: Command): void {
  program
    .command("install")
    .description(
      "install the sidecar on this host as a hardened systemd service (or on another host with --ssh)",
    )
    .option("--crm-url <url>", "the CRM's order webhook, https://<crm>/webhooks/bitrix/order")
    .option(
      "--crm-token <token>",
      "the CRM's webhook token (or env CVETY_SIDECAR_CRM_TOKEN; asked on a terminal)",
    )
    .option(
      "--crm-ca-file <file>",
      "PEM file of a CA to trust for the CRM besides the system's (copied to /etc/cvety-sidecar)",
    )
    .option("--bitrix-root <dir>", "the Bitrix site root (default /home/bitrix/www)")
    .option(
      "--mysql-url <url>",
      "mysql://user:pass@host:3306/db instead of Bitrix's .settings.php (or env CVETY_SIDECAR_MYSQL_URL)",
    )
    .option("--create-mysql-user", "create a least-privilege MySQL user for the sidecar (recommended)")
    .option("--mysql-user-name <name>", "name of that user (default cvety_sidecar)")
    .option(
      "--mysql-admin-url <url>",
      `credentials allowed to create it (or env ${MYSQL_ADMIN_URL_ENV}; default: Bitrix's or --mysql-url)`,
    )
    .option("--writeback-source <source>", "enable write-back from supabase or feed")
    .option("--writeback-url <url>", "the write-back source's URL")
    .option("--writeback-token <token>", "its token (or env CVETY_SIDECAR_WRITEBACK_TOKEN)")
    .option("--http-listen <host:port>", "address of /healthz and /metrics (default 127.0.0.1:9465), or off")
    .option(
      "--disable-php-hook",
      "comment out the old PHP webhook in init.php once the sidecar runs (backed up first)",
    )
    .option("--force", "replace an existing config.toml (the old one is saved as config.toml.<time>.bak)")
    .option("--dry-run", "print the plan, change nothing")
    .option("-y, --yes", "never ask: a missing input is an error")
    .option(
      "--root <dir>",
      "stage every path under <dir> and print the commands that need a real system instead of running them",
    )
    .option("--health-timeout <seconds>", "how long to wait for /healthz after starting (default 30)")
    .option("--ssh <user@host>", "install on that host instead, with this machine's ssh and scp")
    .option("--ssh-port <port>", "ssh port of that host")
    .option("--identity <file>", "ssh private key")
    .option(
      "--ssh-option <key=value>",
      "extra ssh -o option, repeatable (e.g. UserKnownHostsFile=...)",
      collect,
      [],
    )
    .addOption(
      new Option(
        "--secrets-stdin",
        "read CVETY_SIDECAR_* secrets as KEY=value lines from stdin (used by --ssh)",
      ).hideHelp(),
    )
    .addHelpText(
      "after",
      `
What it does, in order (each line printed as it runs; a re-run changes only what differs):
  checks    Linux, root, systemd, Node >= 20, the Bitrix root, MySQL credentials (Bitrix's
            bitrix/.settings.php or --mysql-url), the sale tables and columns, charset and time zone,
            a harmless ping to the CRM and that it refuses a wrong token. Nothing is written before
            every check passes.
  MySQL     with --create-mysql-user: user cvety_sidecar, SELECT on what capture reads, UPDATE on the
            status columns write-back sets, INSERT on b_sale_order_change and b_event
  user      system user cvety-sidecar (no login shell)
  files     /etc/cvety-sidecar/config.toml (kept unless --force), /etc/cvety-sidecar/secrets.env (0600),
            /var/lib/cvety-sidecar (outbox), /var/log/cvety-sidecar
  code      /opt/cvety-sidecar/<version> with its dependencies, /opt/cvety-sidecar/current,
            /usr/local/bin/cvety-sidecar; an upgrade keeps the previous version for rollback
  systemd   /etc/systemd/system/cvety-sidecar.service (hardened), /etc/logrotate.d/cvety-sidecar,
            daemon-reload, enable, restart, wait for /healthz
  PHP hook  with --disable-php-hook: comments out the old webhook in init.php (original kept)

Environment:
  CVETY_SIDECAR_CRM_TOKEN, CVETY_SIDECAR_MYSQL_URL, ${MYSQL_ADMIN_URL_ENV}, CVETY_SIDECAR_WRITEBACK_TOKEN
  stand in for the flags of the same secrets (they stay out of the shell history).

Exit codes: 0 installed, 1 a check or step failed, 2 usage error, 78 the existing config is invalid.

Examples:
  sudo npx cvety-sidecar install --crm-url https://crm.example/webhooks/bitrix/order --create-mysql-user
  sudo CVETY_SIDECAR_CRM_TOKEN=... npx cvety-sidecar install --yes --crm-url https://crm.example/webhooks/bitrix/order
  sudo cvety-sidecar install --disable-php-hook        # later: take over from the PHP hook
  sudo npx cvety-sidecar@latest install                # upgrade, keeping the config
  npx cvety-sidecar install --ssh root@shop.example --crm-url https://crm.example/webhooks/bitrix/order
  npx cvety-sidecar install --dry-run --root /tmp/stage --mysql-url mysql://u:p@127.0.0.1/shop --crm-url ...`,
    )
    .action(async (opts: InstallCommandOptions) => {
      process.exitCode = await runInstallCommand(opts);
    });
}

async function runInstallCommand(opts: InstallCommandOptions): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let env: NodeJS.ProcessEnv = process.env;
  if (opts.secretsStdin) env = { ...env, ...onlySidecarKeys(parseSecretsEnv(await readStdin())) };
  if (opts.ssh !== undefined) {
    if (opts.crmCaFile !== undefined && !existsSync(opts.crmCaFile)) {
      throw new UsageError(`--crm-ca-file ${opts.crmCaFile}: no such file`);
    }
    const secret = (key: string, flag: string | undefined) =>
      (flag ?? env[key]?.trim()) ? { [key]: (flag ?? env[key]?.trim()) as string } : {};
    return sshRollout({
      connection: {
        target: checkSshTarget(opts.ssh),
        ...(opts.sshPort === undefined ? {} : { port: opts.sshPort }),
        ...(opts.identity === undefined ? {} : { identity: opts.identity }),
        options: opts.sshOption,
      },
      packageDir: PACKAGE_DIR,
      installArgs: forwardedArgs(opts),
      ...(opts.crmCaFile === undefined ? {} : { caFile: opts.crmCaFile }),
      secrets: {
        ...secret("CVETY_SIDECAR_CRM_TOKEN", opts.crmToken),
        ...secret("CVETY_SIDECAR_MYSQL_URL", opts.mysqlUrl),
        ...secret(MYSQL_ADMIN_URL_ENV, opts.mysqlAdminUrl),
        ...secret("CVETY_SIDECAR_WRITEBACK_TOKEN", opts.writebackToken),
      },
      staged: opts.root !== undefined,
      out,
    });
  }
  const terminal = isInteractive(opts.yes) && !opts.secretsStdin ? createTerminalPrompt() : undefined;
  try {
    const { dryRun, yes, root, healthTimeout, ssh, sshPort, identity, sshOption, secretsStdin, ...flags } =
      opts;
    return await install({
      flags: { ...flags, ...(healthTimeout === undefined ? {} : { healthTimeoutS: healthTimeout }) },
      dryRun: dryRun === true,
      ...(root === undefined ? {} : { root }),
      env,
      out,
      ...(terminal === undefined
        ? {}
        : { prompt: terminal.prompt.bind(terminal), confirm: terminal.confirm.bind(terminal) }),
      packageDir: PACKAGE_DIR,
    });
  } finally {
    terminal?.close();
  }
}

/** The flags the remote install gets; secrets travel on stdin, the CA file is shipped by the rollout. */
export function forwardedArgs(opts: InstallCommandOptions): string[] {
  const args: string[] = [];
  const value = (flag: string, v: string | undefined) => {
    if (v !== undefined) args.push(flag, v);
  };
  const toggle = (flag: string, v: boolean | undefined) => {
    if (v) args.push(flag);
  };
  value("--crm-url", opts.crmUrl);
  value("--bitrix-root", opts.bitrixRoot);
  toggle("--create-mysql-user", opts.createMysqlUser);
  value("--mysql-user-name", opts.mysqlUserName);
  value("--writeback-source", opts.writebackSource);
  value("--writeback-url", opts.writebackUrl);
  value("--http-listen", opts.httpListen);
  toggle("--disable-php-hook", opts.disablePhpHook);
  toggle("--force", opts.force);
  toggle("--dry-run", opts.dryRun);
  value("--root", opts.root);
  value("--health-timeout", opts.healthTimeout);
  return args;
}

function onlySidecarKeys(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith("CVETY_SIDECAR_")));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
