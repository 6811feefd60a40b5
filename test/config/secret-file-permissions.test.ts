import assert from "node:assert/strict";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  checkSecretFilePermissions,
  inlineSecretKeys,
  SECRETS_FILE_ENV_VAR,
} from "../../daemon/config/secret-file-permissions.js";
import { ConfigError, EXIT_CONFIG } from "../../daemon/errors.js";
import { makeTempDir } from "./config-fixtures.js";

const TOKEN = "tok-perm-3c9d";

async function layout(opts: { configMode: number; secretsMode?: number; inline: boolean }) {
  const dir = await makeTempDir("cvety-perm-");
  const configFile = join(dir, "config.toml");
  const crm = opts.inline ? `[crm]\nurl = "https://crm.example/x"\ntoken = "${TOKEN}"\n` : "[crm]\n";
  await writeFile(configFile, crm);
  await chmod(configFile, opts.configMode);
  const secretsFile = join(dir, "secrets.env");
  if (opts.secretsMode !== undefined) {
    await writeFile(secretsFile, `CVETY_SIDECAR_CRM_TOKEN=${TOKEN}\n`);
    await chmod(secretsFile, opts.secretsMode);
  }
  return { dir, configFile, secretsFile };
}

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, EXIT_CONFIG);
    assert.ok(!err.message.includes(TOKEN));
    return err;
  }
  assert.fail("expected a refusal");
}

test("a secrets file readable or writable by group or others is refused, naming it and the fix", async () => {
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602, 0o620]) {
    const { configFile, secretsFile } = await layout({ configMode: 0o640, secretsMode: mode, inline: false });
    const err = await refusal(checkSecretFilePermissions({ configFile, env: {} }));
    assert.ok(err.message.includes(secretsFile), err.message);
    assert.match(err.message, new RegExp(`mode 0${mode.toString(8)}`));
    assert.ok(err.message.includes(`chmod 600 ${secretsFile}`), err.message);
    assert.equal(err.file, secretsFile);
  }
});

test("a 0600 or 0400 secrets file, or none beside the config, is fine", async () => {
  for (const mode of [0o600, 0o400, undefined]) {
    const { configFile } = await layout({ configMode: 0o640, secretsMode: mode, inline: false });
    assert.deepEqual(await checkSecretFilePermissions({ configFile, env: {} }), { warnings: [] });
  }
});

test(`${SECRETS_FILE_ENV_VAR} names the file to check; a missing named file is refused`, async () => {
  const { configFile, dir } = await layout({ configMode: 0o640, inline: false });
  const elsewhere = join(dir, "elsewhere.env");
  await writeFile(elsewhere, "X=1\n", { mode: 0o644 });
  await chmod(elsewhere, 0o644);
  const err = await refusal(
    checkSecretFilePermissions({ configFile, env: { [SECRETS_FILE_ENV_VAR]: elsewhere } }),
  );
  assert.match(err.message, new RegExp(`${elsewhere} \\(${SECRETS_FILE_ENV_VAR}\\).*chmod 600`));
  const missing = await refusal(
    checkSecretFilePermissions({ configFile, env: { [SECRETS_FILE_ENV_VAR]: join(dir, "nope.env") } }),
  );
  assert.match(
    missing.message,
    /nope\.env \(CVETY_SIDECAR_SECRETS_FILE\): cannot check the secrets file \(ENOENT\)/,
  );
});

test("a world-readable config with an inline secret warns, naming the keys, never the value", async () => {
  const { configFile } = await layout({ configMode: 0o644, inline: true });
  const { warnings } = await checkSecretFilePermissions({ configFile, env: {} });
  assert.equal(warnings.length, 1);
  assert.deepEqual(warnings[0]!.keys, ["crm.token"]);
  assert.match(warnings[0]!.message, /readable by every user on this host \(mode 0644\): chmod 640/);
  assert.ok(!JSON.stringify(warnings).includes(TOKEN));
  for (const [mode, inline] of [
    [0o640, true],
    [0o644, false],
  ] as const) {
    const other = await layout({ configMode: mode, inline });
    assert.deepEqual(
      (await checkSecretFilePermissions({ configFile: other.configFile, env: {} })).warnings,
      [],
    );
  }
});

test("inline secrets are found by key: token, signing secrets, a password in mysql.url, write-back token", () => {
  assert.deepEqual(
    inlineSecretKeys({
      crm: { token: "t", signing_secrets: ["whsec_AA=="] },
      mysql: { url: "mysql://u:p@h/db" },
      writeback: { token: "w" },
    }),
    ["crm.token", "crm.signing_secrets", "mysql.url (its password)", "writeback.token"],
  );
  assert.deepEqual(inlineSecretKeys({ crm: { signing_secrets: [] }, mysql: { url: "mysql://u@h/db" } }), []);
  assert.deepEqual(inlineSecretKeys({ crm: "x" }), []);
});
