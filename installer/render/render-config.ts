import { LAYOUT } from "../install-layout.js";
import type { InstallSettings } from "../install-settings.js";

/**
 * config.toml as the installer writes it: only what this host needs, each
 * key with a comment saying where its secret lives. Every other key keeps
 * the default from daemon/config/config-schema.ts (README: Configuration).
 * Strings are written as JSON strings, which TOML reads the same way.
 */
export function renderConfig(s: InstallSettings): string {
  const q = (value: string) => JSON.stringify(value);
  const lines = [
    `# cvety-sidecar configuration, written by \`cvety-sidecar install\` (${s.version}).`,
    `# Secrets are not in this file: they are in ${LAYOUT.secretsFile} (root-only), which`,
    "# systemd hands to the service as environment variables (CVETY_SIDECAR_*).",
    "# After a change: systemctl restart cvety-sidecar (a bad value makes it exit 78, and",
    "# journalctl -u cvety-sidecar names the key). Every key and its default: README, Configuration.",
    "",
    "[bitrix]",
    "# The site root.",
    `root = ${q(s.bitrixRoot)}`,
    "",
    "[mysql]",
  ];
  if (s.mysql.configUrl !== undefined) {
    lines.push(
      "# The least-privilege user made by `cvety-sidecar install --create-mysql-user`;",
      "# its password is CVETY_SIDECAR_MYSQL_PASSWORD in secrets.env.",
      `url = ${q(s.mysql.configUrl)}`,
    );
  } else if (s.mysql.secretUrl !== undefined) {
    lines.push("# The connection URL (with its password) is CVETY_SIDECAR_MYSQL_URL in secrets.env.");
  } else {
    lines.push(
      "# No url: the daemon uses Bitrix's own credentials from <bitrix root>/bitrix/.settings.php.",
      '# url = "mysql://user@host:3306/database"   (password: CVETY_SIDECAR_MYSQL_PASSWORD)',
    );
  }
  lines.push(
    "",
    "[crm]",
    "# The CRM's order webhook. The token is CVETY_SIDECAR_CRM_TOKEN in secrets.env.",
    `url = ${q(s.crm.url)}`,
  );
  if (s.crm.caFile !== undefined) {
    lines.push(
      "# The CA that signs the CRM's certificate, trusted besides the system's CAs.",
      `ca_file = ${q(s.crm.caFile)}`,
    );
  }
  if (s.crm.webhookSource !== undefined) lines.push(`webhook_source = ${q(s.crm.webhookSource)}`);
  if (s.writeback !== undefined) {
    lines.push(
      "",
      "[writeback]",
      "# CRM status changes written back into Bitrix. The token is CVETY_SIDECAR_WRITEBACK_TOKEN in secrets.env.",
      "enabled = true",
      `source = ${q(s.writeback.source)}`,
      `url = ${q(s.writeback.url)}`,
    );
  }
  lines.push(
    "",
    "[state]",
    "# The SQLite outbox (outbox.db) and the daemon's cursors.",
    `dir = ${q(s.stateDir)}`,
    "",
    "[log]",
    "# JSON lines, rotated by /etc/logrotate.d/cvety-sidecar; `cvety-sidecar logs -f` shows them.",
    `file = ${q(s.logFile)}`,
    "",
    "[http]",
    "# /healthz, /readyz and /metrics.",
    `listen = ${q(s.httpListen)}`,
    "",
  );
  return lines.join("\n");
}
