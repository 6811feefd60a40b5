import assert from "node:assert/strict";
import { test } from "node:test";
import { describeMissingGrant, missingGrantOf } from "../../daemon/mysql/missing-grant.js";

function mysqlError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

test("reads the refused privilege, table, column and account from MariaDB's and MySQL's wording", () => {
  assert.deepEqual(
    missingGrantOf(
      mysqlError(
        "ER_TABLEACCESS_DENIED_ERROR",
        "UPDATE command denied to user 'cvety_sidecar'@'localhost' for table `bitrix`.`b_sale_order`",
      ),
    ),
    {
      privilege: "UPDATE",
      table: "b_sale_order",
      account: "'cvety_sidecar'@'localhost'",
      database: "bitrix",
    },
  );
  assert.deepEqual(
    missingGrantOf(
      mysqlError(
        "ER_COLUMNACCESS_DENIED_ERROR",
        "UPDATE command denied to user 'cvety_sidecar'@'127.0.0.1' for column 'STATUS_ID' in table 'b_sale_order'",
      ),
    ),
    {
      privilege: "UPDATE",
      table: "b_sale_order",
      column: "STATUS_ID",
      account: "'cvety_sidecar'@'127.0.0.1'",
    },
  );
  assert.deepEqual(
    missingGrantOf(
      mysqlError(
        "ER_TABLEACCESS_DENIED_ERROR",
        "SELECT command denied to user 'u'@'%' for table 'b_sale_basket'",
      ),
    ),
    { privilege: "SELECT", table: "b_sale_basket", account: "'u'@'%'" },
  );
});

test("names the GRANT to run, with the database, or says nothing for other errors", () => {
  const err = mysqlError(
    "ER_COLUMNACCESS_DENIED_ERROR",
    "UPDATE command denied to user 'cvety_sidecar'@'localhost' for column 'STATUS_ID' in table 'b_sale_order'",
  );
  assert.equal(
    describeMissingGrant(err, "bitrix"),
    "the MySQL user 'cvety_sidecar'@'localhost' lacks UPDATE (STATUS_ID) on b_sale_order: " +
      "GRANT UPDATE (STATUS_ID) ON `bitrix`.`b_sale_order` TO 'cvety_sidecar'@'localhost', " +
      "or re-run `cvety-sidecar install --create-mysql-user`",
  );
  assert.equal(
    describeMissingGrant(mysqlError("ER_NO_SUCH_TABLE", "Table 'bitrix.x' doesn't exist"), "bitrix"),
    undefined,
  );
  assert.equal(
    describeMissingGrant(mysqlError("ER_ACCESS_DENIED_ERROR", "Access denied for user 'u'@'h'"), "b"),
    undefined,
  );
  assert.equal(describeMissingGrant(new Error("boom"), "bitrix"), undefined);
});
