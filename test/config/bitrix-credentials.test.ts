import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { readBitrixMysqlCredentials } from "../../daemon/config/bitrix-credentials.js";
import { ConfigError, EXIT_CONFIG } from "../../daemon/errors.js";
import {
  bitrixSettingsPhp,
  dbconnPhp,
  makeTempDir,
  TRICKY_PASSWORD,
  TRICKY_PASSWORD_PHP,
  writeFiles,
} from "./config-fixtures.js";

const SETTINGS = "bitrix/.settings.php";
const DBCONN = "bitrix/php_interface/dbconn.php";
const SECRET = "Sup3rSecretPw";

async function siteWith(files: Record<string, string | Buffer>): Promise<string> {
  const root = await makeTempDir("cvety-bitrix-");
  await writeFiles(root, files);
  return root;
}

/** Rejects with a ConfigError (exit 78) that never shows `secret`, even in its cause chain. */
async function configError(root: string, secret = SECRET): Promise<ConfigError> {
  try {
    await readBitrixMysqlCredentials(root);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${inspect(err)}`);
    assert.equal(err.exitCode, EXIT_CONFIG);
    assert.ok(!inspect(err, { depth: 10 }).includes(secret), `secret leaked into: ${err.message}`);
    return err;
  }
  assert.fail("expected readBitrixMysqlCredentials to fail");
}

/** The settings file with its password entry replaced by raw PHP source. */
function settingsWithPasswordSource(passwordSource: string): string {
  return bitrixSettingsPhp({ host: "localhost", password: passwordSource });
}

describe("readBitrixMysqlCredentials", () => {
  it("reads host, default port, database, login and password from a var_export-style .settings.php", async () => {
    const root = await siteWith({
      [SETTINGS]: bitrixSettingsPhp({ host: "localhost", password: `'${SECRET}'` }),
    });
    assert.deepEqual(await readBitrixMysqlCredentials(root), {
      host: "localhost",
      port: 3306,
      user: "bitrix0",
      password: SECRET,
      database: "sitemanager",
      source: join(root, SETTINGS),
    });
  });

  it("reads host and port from .settings.php written with [] syntax", async () => {
    const root = await siteWith({
      [SETTINGS]: `<?php
return [
  'utf_mode' => ['value' => true, 'readonly' => true],
  'connections' => [
    'value' => [
      'default' => [
        'className' => '\\\\Bitrix\\\\Main\\\\DB\\\\MysqliConnection',
        'host' => 'db.local:3307',
        'database' => 'shop',
        'login' => 'shop_user',
        'password' => '${SECRET}',
        'options' => 2.0,
      ],
    ],
    'readonly' => true,
  ],
];
`,
    });
    const target = await readBitrixMysqlCredentials(root);
    assert.equal(target.host, "db.local");
    assert.equal(target.port, 3307);
    assert.equal(target.database, "shop");
    assert.equal(target.user, "shop_user");
    assert.equal(target.password, SECRET);
  });

  it("decodes a password with quotes, backslashes and Cyrillic in single quotes", async () => {
    const root = await siteWith({ [SETTINGS]: settingsWithPasswordSource(TRICKY_PASSWORD_PHP) });
    assert.equal((await readBitrixMysqlCredentials(root)).password, TRICKY_PASSWORD);
  });

  it("decodes the same password written in double quotes", async () => {
    const root = await siteWith({
      [SETTINGS]: settingsWithPasswordSource(String.raw`"Pa'ss\"wo\\rd-Пароль-\$1"`),
    });
    assert.equal((await readBitrixMysqlCredentials(root)).password, TRICKY_PASSWORD);
  });

  it("reads the connection although BitrixVM's cache sid is a computed expression", async () => {
    const root = await siteWith({ [SETTINGS]: bitrixSettingsPhp({ host: "127.0.0.1", password: "'x'" }) });
    assert.equal((await readBitrixMysqlCredentials(root)).host, "127.0.0.1");
  });

  it("takes a socket path from a host like localhost:/var/lib/mysqld/mysqld.sock", async () => {
    const root = await siteWith({
      [SETTINGS]: bitrixSettingsPhp({ host: "localhost:/var/lib/mysqld/mysqld.sock", password: "'x'" }),
    });
    const target = await readBitrixMysqlCredentials(root);
    assert.equal(target.host, "localhost");
    assert.equal(target.socketPath, "/var/lib/mysqld/mysqld.sock");
  });

  it("rejects a host with an invalid port, naming the key", async () => {
    const root = await siteWith({
      [SETTINGS]: bitrixSettingsPhp({ host: "db.local:99999", password: "'x'" }),
    });
    const error = await configError(root);
    assert.match(
      error.message,
      /connections\.value\.default\.host: host "db\.local:99999" has an invalid port/,
    );
  });

  it("falls back to dbconn.php when .settings.php does not exist", async () => {
    const root = await siteWith({ [DBCONN]: dbconnPhp(`"${SECRET}"`) });
    assert.deepEqual(await readBitrixMysqlCredentials(root), {
      host: "localhost",
      port: 3308,
      user: "bitrix",
      password: SECRET,
      database: "shop",
      source: join(root, DBCONN),
    });
  });

  it("falls back to dbconn.php when .settings.php has no connections", async () => {
    const root = await siteWith({
      [SETTINGS]: "<?php\nreturn array('utf_mode' => array('value' => true));\n",
      [DBCONN]: dbconnPhp(`'${SECRET}'`),
    });
    assert.equal((await readBitrixMysqlCredentials(root)).source, join(root, DBCONN));
  });

  it("names both paths it tried when neither file exists", async () => {
    const root = await makeTempDir("cvety-bitrix-");
    const error = await configError(root);
    assert.ok(error.message.includes(join(root, SETTINGS)), error.message);
    assert.ok(error.message.includes(join(root, DBCONN)), error.message);
  });

  it("says when bitrix.root itself does not exist", async () => {
    const root = join(await makeTempDir("cvety-bitrix-"), "no-such-site");
    const error = await configError(root);
    assert.match(error.message, /is not an existing directory/);
  });

  it("explains a recent dbconn.php without $DB variables", async () => {
    const root = await siteWith({
      [SETTINGS]: "<?php return ['utf_mode' => ['value' => true]];",
      [DBCONN]: '<?php\ndefine("BX_UTF", true);\n',
    });
    const error = await configError(root);
    assert.match(
      error.message,
      /\$DBHost is not set \(and .*\.settings\.php has no connections\.value\.default\)/,
    );
    assert.equal(error.file, join(root, DBCONN));
  });

  it("refuses PostgreSQL with a clear message", async () => {
    const root = await siteWith({
      [SETTINGS]: bitrixSettingsPhp({
        host: "localhost",
        password: `'${SECRET}'`,
        className: String.raw`'\\Bitrix\\Main\\DB\\PgsqlConnection'`,
      }),
    });
    const error = await configError(root);
    assert.match(error.message, /PgsqlConnection.*PostgreSQL is not supported/);
    assert.equal(error.key, "connections.value.default.className");
  });

  it("names a missing key with its full path, without the password", async () => {
    const source = bitrixSettingsPhp({ host: "localhost", password: `'${SECRET}'` }).replace(
      "'database' => 'sitemanager',",
      "",
    );
    const root = await siteWith({ [SETTINGS]: source });
    const error = await configError(root);
    assert.equal(error.message, `${join(root, SETTINGS)}: connections.value.default.database is missing`);
    assert.equal(error.key, "connections.value.default.database");
  });

  it("reports a password taken from getenv() with the file, key and line:column", async () => {
    const root = await siteWith({ [SETTINGS]: settingsWithPasswordSource("getenv('DB_PASS')") });
    const error = await configError(root);
    assert.match(
      error.message,
      /\.settings\.php: connections\.value\.default\.password: unsupported expression "getenv\(" at line \d+:23: only literal values can be read without running PHP$/,
    );
    assert.ok(error.message.startsWith(join(root, SETTINGS)));
  });

  for (const [what, passwordSource] of [
    ["a constant", "DB_PASSWORD"],
    ["concatenation", `'${SECRET}' . 'suffix'`],
    ["interpolation", `"${SECRET.slice(0, 5)}$${SECRET.slice(5)}"`],
    ["a heredoc", `<<<EOT\n${SECRET}\nEOT`],
  ] as const) {
    it(`reports a password written as ${what} with line:column and without its text`, async () => {
      const root = await siteWith({ [SETTINGS]: settingsWithPasswordSource(passwordSource) });
      const error = await configError(root, SECRET.slice(0, 5));
      assert.match(
        error.message,
        /connections\.value\.default\.password: unsupported expression ".+" at line \d+:\d+/,
      );
      assert.ok(error.message.includes(join(root, SETTINGS)));
    });
  }

  it("reports a truncated .settings.php with the path and position", async () => {
    const full = bitrixSettingsPhp({ host: "localhost", password: `'${SECRET}'` });
    const root = await siteWith({ [SETTINGS]: full.slice(0, full.indexOf(SECRET) + 4) });
    const error = await configError(root, SECRET.slice(0, 4));
    assert.match(
      error.message,
      /\.settings\.php: unterminated single-quoted string starting at line \d+:\d+$/,
    );
  });

  it("reports a file cut after an array entry as truncated", async () => {
    const full = bitrixSettingsPhp({ host: "localhost", password: `'${SECRET}'` });
    const root = await siteWith({ [SETTINGS]: full.slice(0, full.indexOf("'options'")) });
    const error = await configError(root);
    assert.match(error.message, /unexpected end of file at line \d+:\d+: .*truncated/);
  });

  it("reports a dbconn.php password from a function call", async () => {
    const root = await siteWith({ [DBCONN]: dbconnPhp("trim(file_get_contents('/etc/secret'))") });
    const error = await configError(root);
    assert.match(error.message, /dbconn\.php: \$DBPassword: unsupported expression "trim\(" at line 6:15/);
  });

  it("refuses a file larger than 1 MiB without parsing it", { timeout: 10_000 }, async () => {
    const padding = `// ${"x".repeat(1024)}\n`.repeat(1100);
    const root = await siteWith({ [SETTINGS]: `<?php\n${padding}return [];` });
    const error = await configError(root);
    assert.match(
      error.message,
      /\.settings\.php: Bitrix settings file is \d+ bytes, more than the 1048576 allowed/,
    );
  });

  it("refuses absurdly deep nesting", { timeout: 10_000 }, async () => {
    const root = await siteWith({ [SETTINGS]: `<?php return ${"array(".repeat(5000)}${")".repeat(5000)};` });
    const error = await configError(root);
    assert.match(error.message, /nested deeper than 64 levels at line 1:\d+/);
  });

  it("refuses a FIFO instead of blocking on it", { timeout: 10_000 }, async (t) => {
    const root = await makeTempDir("cvety-bitrix-");
    await mkdir(join(root, "bitrix"), { recursive: true });
    try {
      execFileSync("mkfifo", [join(root, SETTINGS)]);
    } catch {
      t.skip("mkfifo is not available");
      return;
    }
    const error = await configError(root);
    assert.match(error.message, /\.settings\.php: cannot read Bitrix settings file: not a regular file/);
  });

  it("reports a directory in place of the file with EISDIR", async () => {
    const root = await makeTempDir("cvety-bitrix-");
    await mkdir(join(root, SETTINGS), { recursive: true });
    const error = await configError(root);
    assert.match(error.message, /\.settings\.php: cannot read Bitrix settings file \(EISDIR/);
  });

  it("reports an unreadable file with EACCES", async (t) => {
    if (process.getuid?.() === 0) {
      t.skip("root can read any file");
      return;
    }
    const root = await siteWith({
      [SETTINGS]: bitrixSettingsPhp({ host: "localhost", password: `'${SECRET}'` }),
    });
    await chmod(join(root, SETTINGS), 0o000);
    const error = await configError(root);
    assert.match(error.message, /\.settings\.php: cannot read Bitrix settings file \(EACCES/);
  });
});
