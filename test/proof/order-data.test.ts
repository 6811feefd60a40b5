/**
 * Proof: order texts reach the CRM exactly as Bitrix stored them, byte for
 * byte, whatever they hold: quotes, backslashes, emoji, NUL and other control
 * characters, JSON and SQL look-alikes, a 64 KB comment; from a utf8mb4
 * database and from an old cp1251 one (written through a cp1251 connection,
 * as such a Bitrix writes; the daemon reads through utf8mb4 and MySQL
 * converts). The real daemon, the real CRM stand-in: what the CRM parsed from
 * the body is compared with what the test wrote (and with what MySQL holds).
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { test } from "node:test";
import fc from "fast-check";
import type { PoolConnection as CorePoolConnection } from "mysql2";
import mysql, { type Pool } from "mysql2/promise";
import { createOrder, DEFAULT_BASKET } from "../support/bitrix-writer.js";
import { type SyncFixture, setupSync } from "../support/sync-fixture.js";
import type { TestDatabaseCharset } from "../support/test-database.js";

/** Random orders per database, on top of the fixed hostile ones. */
export const RANDOM_ORDERS = 12;
const SEED = 20261127;

/** The texts of one order, by where they live in Bitrix. */
interface OrderTexts {
  userDescription: string;
  comments: string;
  notes: string;
  postcardText: string;
  addressRecipient: string;
  courierComment: string;
  basketName: string;
}

const COURIER_PROPERTY = "Комментарий курьеру"; // the code-less property: keyed by its NAME

const HOSTILE_UTF8 = [
  `It's "quoted" and 'single' and \`back\``,
  "back\\slash \\' \\\" \\\\ \\n \\u0000 (as text)",
  "NUL\u0000inside and at the end\u0000",
  "controls \t\n\r\u0001\u001f\u007f\u0085 and separators \u2028\u2029",
  "emoji 🌸💐 family 👩‍👩‍👧 flag 🇰🇿 skin 👍🏽",
  "Қазақ тілі: әғқңөұүһі, Русский: Ёё, «ёлочки» — „лапки“",
  '{"status":"success","token":"x"}',
  "'; DROP TABLE b_sale_order; -- ",
  "</script><script>alert(1)</script>",
  "combining é vs é, RTL \u202Eevil\u202C, BOM \uFEFF, ZWJ \u200D",
  "   leading and trailing spaces   ",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${x} is the point
  "%s %d %n {0} ${x} $(id)",
];

const HOSTILE_CP1251 = [
  `Кавычки "двойные" и 'одинарные', «ёлочки» и „лапки“`,
  "Обратный \\ слэш \\' \\\" \\\\ и NUL\u0000внутри",
  "Ёлка — №5, € 100, ™ ‰ … † ‡ •",
  "Ўў Її Іі Єє Ґґ Ђђ Љљ",
  "табуляция\tперевод\nстроки\r",
  "'; DROP TABLE b_sale_order; -- ",
  '{"status":"success"}',
];

/** Every character a cp1251 column can hold (0x98 has no character in cp1251). */
const CP1251_CHARS = [
  ...new TextDecoder("windows-1251").decode(Uint8Array.from({ length: 256 }, (_v, i) => i)),
].filter((_c, i) => i !== 0x98);

/** Exactly 65,535 bytes of UTF-8 (a TEXT column's limit): emoji, Cyrillic, quotes, backslashes. */
function longUtf8Comment(): string {
  let s = "";
  const parts = ["🌸", "ж", '"', "\\", "'", "a", "\u0000"];
  for (let i = 0; Buffer.byteLength(s) < 65_535 - 8; i++) s += parts[i % parts.length];
  while (Buffer.byteLength(s) < 65_535) s += "z";
  return s;
}

function textsArb(unit: fc.Arbitrary<string>): fc.Arbitrary<OrderTexts> {
  // VARCHAR limits counted in characters: 2000, 500 (property values), 255 (basket NAME).
  const text = (max: number) => fc.string({ unit, maxLength: max });
  return fc.record({
    userDescription: text(200),
    comments: text(300),
    notes: text(120),
    postcardText: text(120),
    addressRecipient: text(120),
    courierComment: text(120),
    basketName: text(100),
  });
}

function fixedTexts(hostile: string[], long: string): OrderTexts[] {
  const at = (i: number) => hostile[i % hostile.length]!;
  return hostile.map((_h, i) => ({
    userDescription: at(i),
    comments: i === 0 ? long : at(i + 1),
    notes: at(i + 2),
    postcardText: at(i + 3),
    addressRecipient: at(i + 4),
    courierComment: at(i + 5),
    basketName: at(i + 6).slice(0, 100),
  }));
}

async function writeOrders(pool: Pool, all: OrderTexts[]): Promise<Map<number, OrderTexts>> {
  const written = new Map<number, OrderTexts>();
  for (const texts of all) {
    const id = await createOrder(pool, {
      userDescription: texts.userDescription,
      comments: texts.comments,
      properties: {
        notes: texts.notes,
        postcardText: texts.postcardText,
        addressRecipient: texts.addressRecipient,
        [COURIER_PROPERTY]: texts.courierComment,
      },
      basket: [{ ...DEFAULT_BASKET[0]!, name: texts.basketName }],
    });
    written.set(id, texts);
  }
  return written;
}

/** Asserts equality as strings and as UTF-8 bytes, with a readable diff position. */
function assertSameText(actual: unknown, expected: string, what: string): void {
  assert.equal(typeof actual, "string", `${what} is a string`);
  const a = actual as string;
  if (a === expected && Buffer.from(a, "utf8").equals(Buffer.from(expected, "utf8"))) return;
  let i = 0;
  while (i < Math.min(a.length, expected.length) && a[i] === expected[i]) i++;
  assert.fail(
    `${what} differs at char ${i} (lengths ${a.length} vs ${expected.length}): ` +
      `${JSON.stringify(a.slice(i, i + 20))} vs ${JSON.stringify(expected.slice(i, i + 20))}`,
  );
}

async function assertDeliveredExactly(f: SyncFixture, written: Map<number, OrderTexts>): Promise<void> {
  await f.crm.waitFor(
    (c) => [...written.keys()].every((id) => c.acceptedFor(id).length >= 1),
    60_000,
    `all ${written.size} orders delivered`,
  );
  for (const [id, texts] of written) {
    // What MySQL holds is what was written (otherwise this test would be about MySQL, not the sidecar).
    const [row] = await f.db.query<{ USER_DESCRIPTION: string; COMMENTS: string }>(
      "SELECT USER_DESCRIPTION, COMMENTS FROM b_sale_order WHERE ID = ?",
      [id],
    );
    assertSameText(row!.COMMENTS, texts.comments, `order ${id}: COMMENTS as stored in MySQL`);
    assertSameText(row!.USER_DESCRIPTION, texts.userDescription, `order ${id}: USER_DESCRIPTION in MySQL`);

    const data = f.crm.acceptedFor(id).at(-1)!.data as {
      USER_DESCRIPTION: unknown;
      COMMENTS: unknown;
      properties: Record<string, unknown>;
      basket: Array<{ NAME: unknown }>;
    };
    assertSameText(data.USER_DESCRIPTION, texts.userDescription, `order ${id}: USER_DESCRIPTION`);
    assertSameText(data.COMMENTS, texts.comments, `order ${id}: COMMENTS`);
    assertSameText(data.properties["notes"], texts.notes, `order ${id}: properties.notes`);
    assertSameText(
      data.properties["postcardText"],
      texts.postcardText,
      `order ${id}: properties.postcardText`,
    );
    assertSameText(
      data.properties["addressRecipient"],
      texts.addressRecipient,
      `order ${id}: addressRecipient`,
    );
    assertSameText(
      data.properties[COURIER_PROPERTY],
      texts.courierComment,
      `order ${id}: ${COURIER_PROPERTY}`,
    );
    assertSameText(data.basket[0]?.NAME, texts.basketName, `order ${id}: basket NAME`);
  }
}

async function setupData(t: TestContext, charset: TestDatabaseCharset): Promise<SyncFixture> {
  const f = await setupSync(t, { prefix: `proof_${charset}`, charset });
  await f.startSidecar();
  return f;
}

test(`utf8mb4 database: quotes, backslashes, emoji, NUL, a 64 KB comment and ${RANDOM_ORDERS} random orders arrive byte-exact`, async (t) => {
  const f = await setupData(t, "utf8mb4");
  const long = longUtf8Comment();
  assert.equal(Buffer.byteLength(long), 65_535);
  const unit = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
    fc.constantFrom(
      "'",
      '"',
      "\\",
      "\u0000",
      "\n",
      "\r",
      "\t",
      "🌸",
      "👩‍👩‍👧",
      "ё",
      "Қ",
      "%",
      "_",
      "`",
      ";",
      " ",
    ),
  );
  const random = fc.sample(textsArb(unit), { numRuns: RANDOM_ORDERS, seed: SEED });
  const written = await writeOrders(f.db.pool, [...fixedTexts(HOSTILE_UTF8, long), ...random]);
  await assertDeliveredExactly(f, written);
});

test(`cp1251 database (old Bitrix): Cyrillic, quotes, backslashes, NUL and a 65,535-character comment arrive as the same text (${RANDOM_ORDERS} random orders)`, async (t) => {
  const f = await setupData(t, "cp1251");
  // Bitrix in cp1251 mode talks cp1251 to MySQL (SET NAMES cp1251): write the same way.
  const e = f.db.endpoint;
  const cp1251 = mysql.createPool({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    database: f.db.name,
    charset: "CP1251_GENERAL_CI",
    dateStrings: true,
    connectionLimit: 2,
  });
  cp1251.on("connection", (c) => {
    (c as unknown as CorePoolConnection).query("SET SESSION sql_mode = ''", () => undefined);
  });
  t.after(() => cp1251.end());

  const [[charsetRow]] = (await f.db.pool.query(
    "SELECT CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'b_sale_order' AND COLUMN_NAME = 'COMMENTS'",
    [f.db.name],
  )) as unknown as [[{ cs: string }]];
  assert.equal(charsetRow.cs, "cp1251", "the table really is cp1251");

  const long = Array.from({ length: 65_535 }, (_v, i) => "Ёжик в тумане «“\\'\"№»"[i % 21]).join("");
  const unit = fc.constantFrom(...CP1251_CHARS);
  const random = fc.sample(textsArb(unit), { numRuns: RANDOM_ORDERS, seed: SEED });
  const written = await writeOrders(cp1251, [...fixedTexts(HOSTILE_CP1251, long), ...random]);

  // Stored as cp1251 bytes: one byte per letter.
  const [first] = written.keys();
  const [hex] = await f.db.query<{ h: string }>(
    "SELECT HEX(SUBSTRING(COMMENTS, 1, 4)) AS h FROM b_sale_order WHERE ID = ?",
    [first],
  );
  assert.equal(hex!.h, "A8E6E8EA", "Ёжик in cp1251");
  await assertDeliveredExactly(f, written);
});
