import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { SHOP } from "../support/bitrix-shop.js";
import { bitrixNow, createOrder, saveOrder, shiftBitrixTime } from "../support/bitrix-writer.js";
import { acceptedVersions, setupSync, TEST_CRM_TOKEN } from "../support/sync-fixture.js";

const DATETIME_SITE_FORMAT = /^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$/;

test("a new order arrives once as order.create in the CRM's format; a later save arrives as order.update", async (t) => {
  const f = await setupSync(t);
  const sidecar = await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "order.create");
  const [req] = f.crm.requests.filter((r) => r.orderId === String(id));
  const body = req!.body as { event: string; token: string; data: Record<string, unknown> };
  assert.equal(body.event, "order.create");
  assert.equal(body.token, TEST_CRM_TOKEN, "the live CRM reads the token from the body");
  assert.equal(req!.headers["authorization"], `Bearer ${TEST_CRM_TOKEN}`);
  assert.equal(req!.headers["x-webhook-token"], TEST_CRM_TOKEN);
  assert.equal(req!.headers["content-type"], "application/json");
  const [row] = await f.db.query<Record<string, string>>("SELECT * FROM b_sale_order WHERE ID = ?", [id]);
  const data = body.data;
  // Every b_sale_order column at the top level, upper-case, strings or null.
  for (const [column, value] of Object.entries(row!)) {
    if (column === "SEARCH_CONTENT") continue;
    assert.ok(column in data, `column ${column} is in data`);
    const sent = data[column];
    assert.ok(sent === null || typeof sent === "string", `${column} is a string or null`);
    if (value === null) assert.equal(sent, null, column);
  }
  assert.equal(data["ID"], String(id));
  assert.equal(data["ACCOUNT_NUMBER"], String(id));
  assert.equal(data["CURRENCY"], "KZT");
  assert.match(String(data["PRICE"]), /^\d+\.\d{4}$/, "decimals as MySQL prints them");
  assert.equal(data["VERSION"], "0");
  assert.match(String(data["DATE_INSERT"]), DATETIME_SITE_FORMAT);
  assert.match(String(data["DATE_UPDATE"]), DATETIME_SITE_FORMAT);
  const [dbRow] = await f.db.query<{ du: string }>(
    "SELECT DATE_FORMAT(DATE_UPDATE, '%d.%m.%Y %H:%i:%s') AS du FROM b_sale_order WHERE ID = ?",
    [id],
  );
  assert.equal(data["DATE_UPDATE"], dbRow!.du, "the wall clock Bitrix wrote, not shifted");
  const basket = data["basket"] as Array<Record<string, unknown>>;
  assert.equal(basket.length, 3);
  assert.deepEqual(Object.keys(basket[0]!), [
    "ID",
    "PRODUCT_ID",
    "NAME",
    "PRICE",
    "CURRENCY",
    "QUANTITY",
    "DISCOUNT_PRICE",
    "PRODUCT_XML_ID",
  ]);
  assert.equal(basket[0]!["NAME"], "Букет Стандарт");
  assert.match(String(basket[0]!["QUANTITY"]), /^1(\.0+)?$/);
  const properties = data["properties"] as Record<string, unknown>;
  assert.equal(properties["nameRecipient"], "Мадина");
  assert.equal(properties["addressRecipient"], "ул. Кенесары 40, кв 12");
  assert.equal(properties["postcardText"], "С днём рождения!");
  assert.equal(properties[SHOP.unnamedProperty.name], "Домофон 12, третий этаж", "NAME when CODE is empty");
  const user = data["user"] as Record<string, unknown>;
  assert.deepEqual(Object.keys(user), ["ID", "LOGIN", "EMAIL", "NAME", "LAST_NAME", "PERSONAL_PHONE"]);
  assert.equal(user["ID"], String(row!["USER_ID"]));
  assert.equal(typeof data["webhook_timestamp"], "number");
  assert.ok(Math.abs(Number(data["webhook_timestamp"]) - Date.now() / 1000) < 60);
  assert.match(String(data["webhook_source"]), /^production_real/, "the CRM's loop guard prefix");
  assert.match(String(req!.headers["idempotency-key"]), new RegExp(`^bitrix-order-${id}-v0-[0-9a-f]{12}$`));

  await saveOrder(f.db.pool, id, { fields: { STATUS_ID: "AP" } });
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 2, 10_000, "order.update");
  assert.deepEqual(acceptedVersions(f.crm, id), [
    ["order.create", "0"],
    ["order.update", "1"],
  ]);
  assert.equal(f.crm.acceptedFor(id)[1]!.data["STATUS_ID"], "AP");
  await sleep(500);
  assert.equal(f.crm.acceptedFor(id).length, 2, "nothing is sent twice");
  const lines = sidecar.logLines();
  assert.equal(lines.filter((l) => l.msg === "order captured" && l["orderId"] === id).length, 2);
  assert.equal(lines.filter((l) => l.msg === "order delivered" && l["orderId"] === id).length, 2);
  assert.ok(!JSON.stringify(lines).includes(TEST_CRM_TOKEN), "the token never reaches the log");
  assert.equal((await sidecar.stop()).code, 0);
});

test("property-only and basket-only saves are captured", async (t) => {
  const f = await setupSync(t);
  await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1);
  await saveOrder(f.db.pool, id, { properties: { postcardText: "Люблю тебя" } });
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 2, 10_000, "property change");
  assert.equal(
    (f.crm.acceptedFor(id)[1]!.data["properties"] as Record<string, string>)["postcardText"],
    "Люблю тебя",
  );
  await saveOrder(f.db.pool, id, {
    basket: { add: [{ productId: 700001, name: "Ваза стеклянная", price: 3000, quantity: 1 }] },
  });
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 3, 10_000, "basket change");
  const basket = f.crm.acceptedFor(id)[2]!.data["basket"] as Array<Record<string, string>>;
  assert.equal(basket.length, 4);
  assert.ok(basket.some((b) => b["NAME"] === "Ваза стеклянная"));
});

test("ten orders saved in the same second are all captured", async (t) => {
  const f = await setupSync(t);
  await f.startSidecar();
  const second = bitrixNow();
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(await createOrder(f.db.pool, {}, { dateUpdate: second }));
  await f.crm.waitFor((c) => ids.every((id) => c.acceptedFor(id).length >= 1), 15_000, "ten orders");
  for (const id of ids) assert.equal(f.crm.acceptedFor(id).length, 1, `order ${id} once`);
});

test("a save whose DATE_UPDATE is already 20 s old when it becomes visible is captured", async (t) => {
  const f = await setupSync(t);
  await f.startSidecar();
  const fresh = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(fresh).length === 1);
  await sleep(300); // the cursor has moved past "now - 20 s"
  const late = await createOrder(f.db.pool, {}, { dateUpdate: shiftBitrixTime(bitrixNow(), -20) });
  await f.crm.waitFor((c) => c.acceptedFor(late).length === 1, 10_000, "late order");
});

test("an order still RUNNING='Y' is not sent until its save completes", async (t) => {
  const f = await setupSync(t);
  await f.startSidecar();
  const creating = createOrder(f.db.pool, {}, { pauseBeforeFinalMs: 1500 });
  await sleep(1000);
  const [running] = await f.db.query<{ ID: number }>("SELECT ID FROM b_sale_order WHERE RUNNING = 'Y'");
  assert.ok(running, "the order exists, still RUNNING");
  assert.equal(
    f.crm.requests.filter((r) => r.orderId === String(running.ID)).length,
    0,
    "not sent while running",
  );
  const id = await creating;
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1, 10_000, "order after RUNNING cleared");
  const basket = f.crm.acceptedFor(id)[0]!.data["basket"] as unknown[];
  assert.equal(basket.length, 3, "captured complete");
});

test("a save that bumps VERSION, then pauses 3 s before its basket and DATE_UPDATE, reaches the CRM in its final form", async (t) => {
  const f = await setupSync(t);
  await f.startSidecar();
  const id = await createOrder(f.db.pool);
  await f.crm.waitFor((c) => c.acceptedFor(id).length === 1);
  await saveOrder(
    f.db.pool,
    id,
    {
      fields: { STATUS_ID: "CO" },
      basket: { add: [{ productId: 700002, name: "Мишка плюшевый", price: 5000, quantity: 1 }] },
    },
    { pauseAfterVersionBumpMs: 3000 },
  );
  await f.crm.waitFor(
    (c) => {
      const last = c.acceptedFor(id).at(-1)?.data;
      return !!last && (last["basket"] as unknown[]).length === 4 && last["STATUS_ID"] === "CO";
    },
    10_000,
    "final form",
  );
  const [row] = await f.db.query<{ DU: string }>(
    "SELECT DATE_FORMAT(DATE_UPDATE, '%d.%m.%Y %H:%i:%s') AS DU FROM b_sale_order WHERE ID = ?",
    [id],
  );
  const last = f.crm.acceptedFor(id).at(-1)!.data;
  assert.equal(last["VERSION"], "1");
  assert.equal(last["DATE_UPDATE"], row!.DU);
});
