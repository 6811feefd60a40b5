import assert from "node:assert/strict";
import { test } from "node:test";
import { phpSerialize } from "../../daemon/writeback/php-serialize.js";
import { buildStatusMailEvent, phpUrlencode } from "../../daemon/writeback/status-mail-event.js";

// Expected strings below were written by hand from PHP's serialize() rules:
// s:<bytes>:"<text>"; i:<n>; N; b:<0|1>; a:<count>:{<key><value>...}, and
// decimal-integer string keys become integer keys.

test("the status history DATA is byte for byte what Bitrix stores", () => {
  assert.equal(
    phpSerialize({ STATUS_ID: "DE", OLD_STATUS_ID: "N" }),
    'a:2:{s:9:"STATUS_ID";s:2:"DE";s:13:"OLD_STATUS_ID";s:1:"N";}',
  );
});

test("Cyrillic and emoji lengths are UTF-8 bytes on a UTF-8 site", () => {
  // "В пути": В п у т и are 2 bytes each in UTF-8, plus one space = 11 bytes for 6 characters.
  assert.equal(phpSerialize("В пути"), 's:11:"В пути";');
  // "Ёлка 🎄": Ё л к а 2 bytes each, space 1, the emoji 4 = 13.
  assert.equal(phpSerialize("Ёлка 🎄"), 's:13:"Ёлка 🎄";');
  assert.equal(
    phpSerialize({
      ORDER_STATUS: "В пути",
      ORDER_ID: "122401",
      ORDER_REAL_ID: 122401,
      EMAIL: null,
      TEXT: "",
    }),
    'a:5:{s:12:"ORDER_STATUS";s:11:"В пути";s:8:"ORDER_ID";s:6:"122401";s:13:"ORDER_REAL_ID";i:122401;s:5:"EMAIL";N;s:4:"TEXT";s:0:"";}',
  );
});

test("on a cp1251 site a Cyrillic letter is one byte", () => {
  assert.equal(phpSerialize({ ORDER_STATUS: "В пути" }, "cp1251"), 'a:1:{s:12:"ORDER_STATUS";s:6:"В пути";}');
});

test("lists, integer-like keys, booleans and nesting follow PHP", () => {
  assert.equal(phpSerialize(["a", "бв"]), 'a:2:{i:0;s:1:"a";i:1;s:4:"бв";}');
  assert.equal(phpSerialize({ "7": "x", "07": "y" }), 'a:2:{i:7;s:1:"x";s:2:"07";s:1:"y";}');
  assert.equal(
    phpSerialize({ ok: true, no: false, list: [] }),
    'a:3:{s:2:"ok";b:1;s:2:"no";b:0;s:4:"list";a:0:{}}',
  );
  assert.throws(() => phpSerialize(1.5), RangeError);
});

test("the status e-mail fields come in Bitrix's order with PHP's urlencode applied twice", () => {
  assert.equal(phpUrlencode("12 34/Б"), "12+34%2F%D0%91");
  const event = buildStatusMailEvent(
    {
      orderId: 122401,
      accountNumber: "122401",
      siteId: "s1",
      dateInsert: "2025-08-26 10:12:41",
      statusId: "DE",
      statusName: "В пути",
      statusDescription: null,
      email: "a@example.kz",
      saleEmail: "order@cvety.kz",
      languageId: "ru",
      now: "2025-08-27 09:00:00",
    },
    "utf8",
  );
  assert.equal(event.EVENT_NAME, "SALE_STATUS_CHANGED_DE");
  assert.equal(
    event.C_FIELDS,
    'a:10:{s:8:"ORDER_ID";s:6:"122401";s:13:"ORDER_REAL_ID";i:122401;s:27:"ORDER_ACCOUNT_NUMBER_ENCODE";s:6:"122401";' +
      's:12:"ORDER_STATUS";s:11:"В пути";s:5:"EMAIL";s:12:"a@example.kz";s:17:"ORDER_DESCRIPTION";N;s:4:"TEXT";s:0:"";' +
      's:10:"SALE_EMAIL";s:14:"order@cvety.kz";s:16:"ORDER_PUBLIC_URL";s:0:"";s:10:"ORDER_DATE";s:19:"26.08.2025 10:12:41";}',
  );
});
