import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { COMMENT_PREFIX, commentOutLines, findPhpHook } from "../../installer/php-hook/find-php-hook.js";
import { BITRIX_ROOT, setupInstaller } from "./installer-fixture.js";

const HAS_PHP = spawnSync("php", ["-v"]).status === 0;

/** The CRM team's production hook as their deploy script appended it (shortened). */
const MARKED_BLOCK = `// === WEBHOOK INTEGRATION START ===
// Production Webhook Integration
define('PYTHON_CRM_WEBHOOK_URL', 'https://crm.example/webhooks/bitrix/order');
define('PYTHON_CRM_WEBHOOK_TOKEN', 'secret-token');
function OnSaleOrderSavedHandler(&$ID, $arFields, $orderID, $isNew) {
    $event = $isNew ? 'order.create' : 'order.update';
    sendOrderWebhookToPythonCRM($ID, $event);
}
function sendOrderWebhookToPythonCRM($orderId, $event) {
    $json = <<<JSON
{"event": "$event"}
JSON;
    file_get_contents(PYTHON_CRM_WEBHOOK_URL, false, stream_context_create(['http' => ['content' => $json]]));
}
AddEventHandler("sale", "OnSaleOrderSaved", "OnSaleOrderSavedHandler");
// === WEBHOOK INTEGRATION END ===
`;

const SHOP_CODE = `<?php
// The shop's own handlers stay.
AddEventHandler("sale", "OnSaleOrderSaved", "shopRecalculateBonuses");
function shopRecalculateBonuses(&$ID) {
    CModule::IncludeModule("iblock");
}
`;

test("finds the marked block, the webhook_integration.php include and pasted handlers; leaves the shop's code", () => {
  const source = `${SHOP_CODE}if (file_exists(__DIR__ . '/webhook_integration.php')) {
    require_once __DIR__ . '/webhook_integration.php'; // added by the CRM team
}
function OnSaleStatusOrderHandler($ID, $val) {
    logWebhookEvent("status $ID");
}
AddEventHandler("sale", "OnSaleStatusOrder", "OnSaleStatusOrderHandler");
\\Bitrix\\Main\\EventManager::getInstance()->addEventHandler(
    'sale',
    'OnSaleOrderSaved',
    ['CrmWebhook', 'onSaved']
);
${MARKED_BLOCK}`;
  const found = findPhpHook(source, "init.php");
  const lines = source.split("\n");
  const commented = found.lines.map((n) => lines[n - 1]?.trim());
  assert.ok(
    commented.includes("require_once __DIR__ . '/webhook_integration.php'; // added by the CRM team"),
  );
  assert.ok(commented.includes('AddEventHandler("sale", "OnSaleStatusOrder", "OnSaleStatusOrderHandler");'));
  assert.ok(commented.includes("['CrmWebhook', 'onSaved']"), "a multi-line D7 registration is taken whole");
  assert.ok(commented.includes("// === WEBHOOK INTEGRATION START ===") && commented.includes("JSON;"));
  for (const kept of [
    'AddEventHandler("sale", "OnSaleOrderSaved", "shopRecalculateBonuses");',
    "if (file_exists(__DIR__ . '/webhook_integration.php')) {",
  ]) {
    assert.ok(!commented.includes(kept), `keeps ${kept}`);
  }
  const requireLine = lines.findIndex((l) => l.includes("require_once")) + 1;
  assert.ok(!found.lines.includes(requireLine + 1), "keeps the if's closing brace");
  assert.equal(found.reasons.length, 4, found.reasons.join("; "));

  const after = commentOutLines(source, found.lines);
  assert.deepEqual(findPhpHook(after, "init.php").lines, [], "a second look finds nothing left");
  assert.equal(after.split("\n").length, lines.length, "no line added or removed");
  assert.ok(after.split("\n").every((l, i) => l === lines[i] || l === `${COMMENT_PREFIX}${lines[i]}`));
});

test("refuses what it cannot comment out line by line, naming the line", () => {
  const shared = `<?php\n$a = 1; require_once 'webhook_integration.php';\n`;
  assert.throws(
    () => findPhpHook(shared, "init.php"),
    /init\.php:2: the include of webhook_integration\.php shares its line/,
  );
  const closing = `<?php\n// === WEBHOOK INTEGRATION START ===\necho 1; ?>\n<?php\n// === WEBHOOK INTEGRATION END ===\n`;
  assert.throws(() => findPhpHook(closing, "init.php"), /init\.php:3: .*"\?>"/);
  const unterminated = `<?php\n// === WEBHOOK INTEGRATION START ===\n$a = 1;\n`;
  assert.throws(() => findPhpHook(unterminated, "init.php"), /START without END/);
});

test("CRLF line endings survive commenting out", () => {
  const source = "<?php\r\nrequire 'webhook_integration.php';\r\n$x = 1;\r\n";
  const found = findPhpHook(source, "init.php");
  assert.deepEqual(found.lines, [2]);
  assert.equal(
    commentOutLines(source, found.lines),
    `<?php\r\n${COMMENT_PREFIX}require 'webhook_integration.php';\r\n$x = 1;\r\n`,
  );
});

test("--disable-php-hook comments out the hook in both init.php files, and uninstall restores them byte for byte", async (t) => {
  const fx = await setupInstaller(t, { prefix: "phphook" });
  const local = fx.staged(join(BITRIX_ROOT, "local/php_interface/init.php"));
  const legacy = fx.staged(join(BITRIX_ROOT, "bitrix/php_interface/init.php"));
  const localText = `${SHOP_CODE}require_once($_SERVER['DOCUMENT_ROOT'] . '/local/php_interface/webhook_integration.php');\n`;
  // A BOM, CRLF endings and no final newline: restored exactly as they were.
  const legacyText = `\ufeff<?php\r\n${SHOP_CODE.slice(6).replaceAll("\n", "\r\n")}${MARKED_BLOCK.replaceAll("\n", "\r\n")}$tail = true;`;
  for (const [file, text] of [
    [local, localText],
    [legacy, legacyText],
  ] as const) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text, { mode: 0o640 });
  }

  // Without the flag the hook is only pointed out.
  const warned = await fx.install(["--mysql-url", fx.db.url]);
  assert.equal(warned.code, 0, warned.stdout + warned.stderr);
  assert.match(
    warned.stdout,
    /! the old PHP webhook is active in \/home\/bitrix\/www\/local\/php_interface\/init\.php .*--disable-php-hook/,
  );
  assert.equal(readFileSync(local, "utf8"), localText);

  const r = await fx.install(["--disable-php-hook"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /✔ commented out the PHP webhook in \/home\/bitrix\/www\/local\/php_interface\/init\.php, 1 line\(s\): include of webhook_integration\.php/,
  );
  assert.match(
    r.stdout,
    /✔ commented out the PHP webhook in \/home\/bitrix\/www\/bitrix\/php_interface\/init\.php, 16 line\(s\): WEBHOOK INTEGRATION block/,
  );
  assert.match(readFileSync(local, "utf8"), /^\/\/ \[cvety-sidecar\] require_once\(\$_SERVER/m);
  assert.match(
    readFileSync(local, "utf8"),
    /^AddEventHandler\("sale", "OnSaleOrderSaved", "shopRecalculateBonuses"\);$/m,
  );
  assert.equal(statSync(local).mode & 0o777, 0o640, "mode kept");
  if (HAS_PHP) {
    for (const file of [local, legacy]) {
      const lint = spawnSync("php", ["-l", file], { encoding: "utf8" });
      assert.equal(lint.status, 0, lint.stdout);
    }
  }
  const backups = fx.staged("/var/backups/cvety-sidecar");
  assert.equal(
    statSync(backups).mode & 0o777,
    0o700,
    "the backups (they may hold the old token) are root-only",
  );

  const again = await fx.install(["--disable-php-hook"]);
  assert.equal(again.code, 0);
  assert.match(
    again.stdout,
    /· unchanged \/home\/bitrix\/www\/local\/php_interface\/init\.php \(webhook already commented out\)/,
  );

  const removed = await fx.uninstall();
  assert.equal(removed.code, 0, removed.stdout + removed.stderr);
  assert.match(
    removed.stdout,
    /✔ restored the original \/home\/bitrix\/www\/local\/php_interface\/init\.php/,
  );
  assert.ok(readFileSync(local).equals(Buffer.from(localText)), "local init.php restored byte for byte");
  assert.ok(readFileSync(legacy).equals(Buffer.from(legacyText)), "bitrix init.php restored byte for byte");
  assert.equal(statSync(local).mode & 0o777, 0o640);
  assert.ok(!fx.listStage().has("var/backups/cvety-sidecar"), "backups dropped once restored");
});

test("uninstall leaves an init.php edited after the takeover alone unless --force", async (t) => {
  const fx = await setupInstaller(t, { prefix: "phpedit" });
  const local = fx.staged(join(BITRIX_ROOT, "local/php_interface/init.php"));
  mkdirSync(dirname(local), { recursive: true });
  const original = `<?php\nrequire 'webhook_integration.php';\n`;
  writeFileSync(local, original);
  assert.equal((await fx.install(["--mysql-url", fx.db.url, "--disable-php-hook"])).code, 0);
  const edited = `${readFileSync(local, "utf8")}$later = 'an edit by the shop';\n`;
  writeFileSync(local, edited);

  const refused = await fx.uninstall();
  assert.equal(refused.code, 1);
  assert.match(
    refused.stdout,
    /✖ PHP hook: \/home\/bitrix\/www\/local\/php_interface\/init\.php was changed after the installer commented out the webhook.*--force/,
  );
  assert.equal(readFileSync(local, "utf8"), edited);
  assert.ok(fx.listStage().has("opt/cvety-sidecar"), "nothing else was removed either");

  const forced = await fx.uninstall(["--force"]);
  assert.equal(forced.code, 0, forced.stdout);
  assert.equal(readFileSync(local, "utf8"), original);
});

test("an init.php that PHP rejects after the edit is left as it was", {
  skip: HAS_PHP ? false : "php is not installed",
}, async (t) => {
  const fx = await setupInstaller(t, { prefix: "phplint" });
  const local = fx.staged(join(BITRIX_ROOT, "local/php_interface/init.php"));
  mkdirSync(dirname(local), { recursive: true });
  // Already broken elsewhere (a missing semicolon): the edit cannot make it valid, so it is not made.
  const broken = `<?php\nrequire 'webhook_integration.php';\n$a = 1\n$b = 2;\n`;
  writeFileSync(local, broken);
  const r = await fx.install(["--mysql-url", fx.db.url, "--disable-php-hook"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /✖ PHP hook: php -l rejects the edited \/home\/bitrix\/www\/local\/php_interface\/init\.php, which was left as it was: .*unexpected variable "\$b" in \/home\/bitrix\/www\/local\/php_interface\/init\.php on line 4/,
  );
  assert.equal(readFileSync(local, "utf8"), broken);
});
