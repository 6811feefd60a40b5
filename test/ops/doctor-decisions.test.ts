import assert from "node:assert/strict";
import { test } from "node:test";
import { fail, ok, skip, warn } from "../../daemon/ops/doctor/check-result.js";
import { clockVerdict } from "../../daemon/ops/doctor/clock-verdict.js";
import { doctorExitCode, formatCheck, formatReport } from "../../daemon/ops/doctor/format-checks.js";
import { requiredGrants } from "../../daemon/ops/doctor/mysql-checks.js";
import { missingGrants, schemaMatches } from "../../daemon/ops/doctor/privilege-coverage.js";
import { diskVerdict } from "../../daemon/ops/doctor/state-checks.js";
import { sidecarGrants } from "../../installer/mysql/sidecar-grants.js";

test("a failed check prints its fix below it; a passed one prints one line", () => {
  assert.equal(formatCheck(ok("config", "/etc/c.toml valid")), "✔ config: /etc/c.toml valid");
  assert.equal(
    formatCheck(fail("crm token", "the CRM rejects the token (HTTP 401)", "set [crm] token")),
    "✖ crm token: the CRM rejects the token (HTTP 401)\n    → set [crm] token",
  );
  assert.equal(
    formatCheck(warn("disk space (log)", "900 MB free", "free some")),
    "! disk space (log): 900 MB free\n    → free some",
  );
  assert.equal(formatCheck(skip("mysql grants", "MySQL unreachable")), "- mysql grants: MySQL unreachable");
  assert.match(
    formatReport([ok("a", "x"), warn("b", "y", "z"), fail("c", "d", "e")]),
    /1 passed, 1 warning, 1 failed\n$/,
  );
});

test("exit code: warnings pass, a failure is 1, a bad config 78", () => {
  assert.equal(doctorExitCode([ok("a", ""), warn("b", "", ""), skip("c", "")], false), 0);
  assert.equal(doctorExitCode([ok("a", ""), fail("b", "", "")], false), 1);
  assert.equal(doctorExitCode([fail("config", "", "")], true), 78);
});

test("capture alone needs only SELECT on what it reads; write-back adds UPDATE on six columns and two INSERTs", () => {
  const capture = requiredGrants(false);
  assert.ok(capture.every((g) => g.privilege === "SELECT"));
  assert.deepEqual(capture.map((g) => g.table).sort(), [
    "b_sale_basket",
    "b_sale_order",
    "b_sale_order_delivery",
    "b_sale_order_payment",
    "b_sale_order_props_value",
    "b_user",
  ]);
  assert.deepEqual(requiredGrants(true), sidecarGrants());
});

test("a privilege is held globally, on the database (also by LIKE pattern), on the table, or per column", () => {
  const need = requiredGrants(true);
  assert.deepEqual(
    missingGrants("shop", need, [{ privilege: "SELECT" }, { privilege: "UPDATE" }, { privilege: "INSERT" }]),
    [],
  );
  assert.deepEqual(
    missingGrants("shop_1", need, [
      { privilege: "SELECT", schema: "shop\\_%" },
      { privilege: "UPDATE", schema: "shop_1", table: "b_sale_order" },
      { privilege: "INSERT", schema: "shop_1", table: "b_event" },
    ]),
    [{ privilege: "INSERT", table: "b_sale_order_change" }],
  );
  const partial = missingGrants("shop", need, [
    { privilege: "SELECT", schema: "shop" },
    { privilege: "UPDATE", schema: "shop", table: "b_sale_order", column: "STATUS_ID" },
    { privilege: "INSERT", schema: "shop" },
  ]);
  assert.deepEqual(partial, [
    {
      privilege: "UPDATE",
      table: "b_sale_order",
      columns: ["DATE_STATUS", "EMP_STATUS_ID", "UPDATED_1C", "VERSION", "DATE_UPDATE"],
    },
  ]);
  assert.ok(schemaMatches("shop\\_%", "shop_live"));
  assert.ok(!schemaMatches("shop\\_%", "shopXlive"));
  assert.ok(schemaMatches("sh_p", "shop"));
});

test("clock: seconds apart is fine, a whole-hours offset is a zone mismatch, a DATE_UPDATE ahead fails", () => {
  const base = { timezone: "Asia/Almaty", mysqlTimeZone: "SYSTEM", mysqlSystemTimeZone: "UTC" };
  const [same, newest] = clockVerdict({
    ...base,
    hostNow: "2026-05-01 12:00:00",
    mysqlNow: "2026-05-01 12:00:01",
    newestDateUpdate: "2026-05-01 11:59:00",
  });
  assert.equal(same!.status, "ok");
  assert.match(same!.found, /offset \+1 s; MySQL time zone SYSTEM \(UTC\)/);
  assert.equal(newest!.status, "ok");
  const [zone] = clockVerdict({
    ...base,
    hostNow: "2026-05-01 12:00:00",
    mysqlNow: "2026-05-01 07:00:00",
    newestDateUpdate: null,
  });
  assert.equal(zone!.status, "fail");
  assert.match(zone!.found, /offset -18000 s/);
  assert.match(zone!.fix!, /time zones disagree \(MySQL is 5 h behind\)/);
  const [drift] = clockVerdict({
    ...base,
    hostNow: "2026-05-01 12:00:00",
    mysqlNow: "2026-05-01 12:00:30",
    newestDateUpdate: null,
  });
  assert.equal(drift!.status, "warn");
  const [, ahead] = clockVerdict({
    ...base,
    hostNow: "2026-05-01 12:00:00",
    mysqlNow: "2026-05-01 12:00:00",
    newestDateUpdate: "2026-05-01 12:05:00",
  });
  assert.equal(ahead!.status, "fail");
  assert.match(ahead!.found, /is 300 s in the future/);
});

test("disk: warn under 1 GB, fail under 100 MB", () => {
  assert.equal(diskVerdict("d", "/x", 5 * 1024 ** 3).status, "ok");
  assert.equal(diskVerdict("d", "/x", 500 * 1024 ** 2).status, "warn");
  assert.equal(diskVerdict("d", "/x", 50 * 1024 ** 2).status, "fail");
  assert.equal(diskVerdict("d", "/x", 500 * 1024 ** 2).found, "500 MB free for /x");
});
