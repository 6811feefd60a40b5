/**
 * The reference data of the cvety.kz shop in a test Bitrix database: site s1, one
 * payer type, the order properties the CRM reads by CODE, pay systems, delivery
 * services, the shop's order statuses and a few customers. Rows get fixed ids, so
 * tests can use the `SHOP` constant instead of looking ids up. seedShop() is
 * idempotent (INSERT IGNORE, status names upserted).
 */
import type { Pool } from "mysql2/promise";
import { bitrixNow } from "./bitrix-clock.js";
import { insertRows, type SqlValue } from "./sql-rows.js";

export interface ShopUser {
  id: number;
  /** The b_sale_fuser row that owns this customer's basket lines. */
  fuserId: number;
  login: string;
  email: string | null;
  name: string | null;
  lastName: string | null;
  phone: string | null;
}

export interface ShopProperty {
  id: number;
  /** Empty for the one property whose NAME the CRM must use instead. */
  code: string;
  name: string;
  type: "STRING" | "Y/N" | "DATE";
  flags?: Partial<
    Record<"IS_PAYER" | "IS_PROFILE_NAME" | "IS_PHONE" | "IS_EMAIL" | "IS_ADDRESS" | "REQUIRED", "Y">
  >;
}

export interface ShopStatus {
  id: string;
  /** 'O' order status, 'D' shipment (delivery) status. */
  type: "O" | "D";
  sort: number;
  notify: "Y" | "N";
  name: string;
}

const USERS: ShopUser[] = [
  {
    id: 171540,
    fuserId: 1,
    login: "77011234567",
    email: "a@example.kz",
    name: "Айгерим",
    lastName: "",
    phone: "+77011234567",
  },
  {
    id: 171541,
    fuserId: 2,
    login: "77017654321",
    email: "madina@example.kz",
    name: "Мадина",
    lastName: "Серикова",
    phone: "+77017654321",
  },
  {
    id: 171542,
    fuserId: 3,
    login: "77051112233",
    email: "erlan@example.kz",
    name: "Ерлан",
    lastName: "Жумабаев",
    phone: "+77051112233",
  },
  // A customer who registered by phone only: NULLs the payload must carry as null.
  { id: 171543, fuserId: 4, login: "77770000001", email: null, name: null, lastName: null, phone: null },
];

const PROPERTIES: ShopProperty[] = [
  {
    id: 1,
    code: "name",
    name: "Имя",
    type: "STRING",
    flags: { IS_PAYER: "Y", IS_PROFILE_NAME: "Y", REQUIRED: "Y" },
  },
  { id: 2, code: "phone", name: "Телефон", type: "STRING", flags: { IS_PHONE: "Y", REQUIRED: "Y" } },
  { id: 3, code: "email", name: "E-mail", type: "STRING", flags: { IS_EMAIL: "Y" } },
  { id: 4, code: "nameRecipient", name: "Имя получателя", type: "STRING" },
  { id: 5, code: "phoneRecipient", name: "Телефон получателя", type: "STRING" },
  { id: 6, code: "addressRecipient", name: "Адрес получателя", type: "STRING", flags: { IS_ADDRESS: "Y" } },
  { id: 7, code: "data", name: "Дата доставки", type: "DATE" },
  { id: 8, code: "when", name: "Время доставки", type: "STRING" },
  { id: 9, code: "notes", name: "Примечание", type: "STRING" },
  { id: 10, code: "postcardText", name: "Текст открытки", type: "STRING" },
  { id: 11, code: "city", name: "Город", type: "STRING" },
  { id: 12, code: "shopId", name: "Магазин", type: "STRING" },
  { id: 13, code: "iWillGet", name: "Получу сам", type: "Y/N" },
  { id: 14, code: "pickup", name: "Самовывоз", type: "Y/N" },
  { id: 15, code: "payLink", name: "Ссылка на оплату", type: "STRING" },
  { id: 16, code: "statusLink", name: "Ссылка на статус заказа", type: "STRING" },
  { id: 17, code: "SOURCE_ORDER", name: "Источник заказа", type: "STRING" },
  { id: 18, code: "opt", name: "Оптовый заказ", type: "Y/N" },
  { id: 19, code: "group_purchasing", name: "Групповая покупка", type: "Y/N" },
  { id: 20, code: "", name: "Комментарий курьеру", type: "STRING" },
];

/**
 * Order statuses of the shop (CONTRACT.md §2) with Russian names. DN and DF stay
 * shipment statuses (TYPE 'D') as a fresh `sale` install creates them: b_sale_status
 * has one row per ID, so they cannot also be order statuses here.
 */
const STATUSES: ShopStatus[] = [
  { id: "N", type: "O", sort: 100, notify: "Y", name: "Новый" },
  { id: "UN", type: "O", sort: 110, notify: "Y", name: "Нереализованный" },
  { id: "WA", type: "O", sort: 120, notify: "Y", name: "Ожидает подтверждения" },
  { id: "AP", type: "O", sort: 130, notify: "Y", name: "Подтверждён" },
  { id: "CF", type: "O", sort: 140, notify: "Y", name: "Не оплачен" },
  { id: "ER", type: "O", sort: 150, notify: "Y", name: "Ошибка оплаты" },
  { id: "PD", type: "O", sort: 160, notify: "Y", name: "Оплачен" },
  { id: "GP", type: "O", sort: 170, notify: "Y", name: "Ожидает групповой покупки" },
  { id: "AN", type: "O", sort: 175, notify: "Y", name: "Аукцион" },
  { id: "CO", type: "O", sort: 180, notify: "N", name: "Собран" },
  { id: "RO", type: "O", sort: 185, notify: "N", name: "Пересобрать" },
  { id: "RD", type: "O", sort: 190, notify: "Y", name: "Готов к доставке" },
  { id: "RP", type: "O", sort: 195, notify: "Y", name: "Готов к самовывозу" },
  { id: "DE", type: "O", sort: 196, notify: "Y", name: "В пути" },
  { id: "TR", type: "O", sort: 197, notify: "Y", name: "Проблемный" },
  { id: "CA", type: "O", sort: 198, notify: "N", name: "Решается" },
  { id: "F", type: "O", sort: 200, notify: "Y", name: "Выполнен" },
  { id: "RF", type: "O", sort: 210, notify: "Y", name: "Возврат" },
  { id: "DN", type: "D", sort: 300, notify: "Y", name: "Ожидает обработки" },
  { id: "DF", type: "D", sort: 400, notify: "Y", name: "Отгружен" },
];

export const SHOP = {
  siteId: "s1",
  siteName: "Цветы.kz",
  currency: "KZT",
  personTypeId: 1,
  propsGroupId: 1,
  paySystems: { cash: { id: 1, name: "Наличными курьеру" }, kaspi: { id: 2, name: "Kaspi QR" } },
  /** `none` is the empty service Bitrix puts on every order's system shipment. */
  deliveries: {
    none: { id: 1, name: "Без доставки" },
    courier: { id: 2, name: "Доставка курьером" },
    pickup: { id: 3, name: "Самовывоз" },
  },
  users: USERS,
  properties: PROPERTIES,
  /** Property id by CODE (the code-less property is `unnamedProperty`). */
  propIds: Object.fromEntries(PROPERTIES.filter((p) => p.code !== "").map((p) => [p.code, p.id])) as Record<
    string,
    number
  >,
  unnamedProperty: PROPERTIES.find((p) => p.code === "") as ShopProperty,
  statuses: STATUSES,
} as const;

/** The property a `properties` key of a writer call means: by CODE, else by NAME of a code-less one. */
export function shopProperty(key: string): ShopProperty {
  const property =
    PROPERTIES.find((p) => p.code !== "" && p.code === key) ??
    PROPERTIES.find((p) => p.code === "" && p.name === key);
  if (property === undefined)
    throw new Error(`no order property with CODE (or code-less NAME) ${JSON.stringify(key)}`);
  return property;
}

export function shopUser(id: number): ShopUser | undefined {
  return USERS.find((user) => user.id === id);
}

export async function seedShop(pool: Pool): Promise<typeof SHOP> {
  const now = bitrixNow();

  // biome-ignore format: column list and values line up as written
  await insertRows(
    pool,
    "b_lang",
    [
      "LID", "SORT", "DEF", "ACTIVE", "NAME", "DIR", "FORMAT_DATE", "FORMAT_DATETIME", "FORMAT_NAME",
      "WEEK_START", "CHARSET", "LANGUAGE_ID", "SERVER_NAME", "SITE_NAME", "EMAIL",
    ],
    [
      [
        SHOP.siteId, 1, "Y", "Y", SHOP.siteName, "/", "DD.MM.YYYY", "DD.MM.YYYY HH:MI:SS", "#NAME# #LAST_NAME#",
        1, "UTF-8", "ru", "cvety.kz", SHOP.siteName, "info@cvety.kz",
      ],
    ],
    { ignore: true },
  );

  await insertRows(
    pool,
    "b_sale_person_type",
    ["ID", "LID", "NAME", "CODE", "SORT", "ACTIVE", "ENTITY_REGISTRY_TYPE"],
    [[SHOP.personTypeId, SHOP.siteId, "Физическое лицо", "fiz", 100, "Y", "ORDER"]],
    { ignore: true },
  );
  await insertRows(
    pool,
    "b_sale_person_type_site",
    ["PERSON_TYPE_ID", "SITE_ID"],
    [[SHOP.personTypeId, SHOP.siteId]],
    {
      ignore: true,
    },
  );
  await insertRows(
    pool,
    "b_sale_order_props_group",
    ["ID", "PERSON_TYPE_ID", "NAME", "SORT"],
    [[SHOP.propsGroupId, SHOP.personTypeId, "Данные заказа", 100]],
    { ignore: true },
  );

  const flagColumns = [
    "IS_PAYER",
    "IS_PROFILE_NAME",
    "IS_PHONE",
    "IS_EMAIL",
    "IS_ADDRESS",
    "REQUIRED",
  ] as const;
  // biome-ignore format: column list and values line up as written
  await insertRows(
    pool,
    "b_sale_order_props",
    [
      "ID", "PERSON_TYPE_ID", "NAME", "TYPE", "SORT", "USER_PROPS", "PROPS_GROUP_ID", "CODE", "ACTIVE", "UTIL",
      "ENTITY_REGISTRY_TYPE", "ENTITY_TYPE", ...flagColumns,
    ],
    PROPERTIES.map((p): SqlValue[] => [
      p.id, SHOP.personTypeId, p.name, p.type, p.id * 10, "Y", SHOP.propsGroupId, p.code, "Y", "N",
      "ORDER", "ORDER", ...flagColumns.map((flag) => p.flags?.[flag] ?? "N"),
    ]),
    { ignore: true },
  );

  // biome-ignore format: one pay system per line
  await insertRows(
    pool,
    "b_sale_pay_system_action",
    ["ID", "PAY_SYSTEM_ID", "NAME", "PSA_NAME", "CODE", "SORT", "ACTION_FILE", "ACTIVE", "IS_CASH", "ENTITY_REGISTRY_TYPE"],
    [
      [SHOP.paySystems.cash.id, SHOP.paySystems.cash.id, SHOP.paySystems.cash.name, SHOP.paySystems.cash.name, "cash", 100, "cash", "Y", "Y", "ORDER"],
      [SHOP.paySystems.kaspi.id, SHOP.paySystems.kaspi.id, SHOP.paySystems.kaspi.name, SHOP.paySystems.kaspi.name, "kaspi", 200, "kaspi", "Y", "N", "ORDER"],
    ],
    { ignore: true },
  );

  const services = "\\Bitrix\\Sale\\Delivery\\Services\\";
  // biome-ignore format: one delivery service per line
  await insertRows(
    pool,
    "b_sale_delivery_srv",
    ["ID", "CODE", "PARENT_ID", "NAME", "ACTIVE", "SORT", "CLASS_NAME", "CURRENCY"],
    [
      [SHOP.deliveries.none.id, "empty", null, SHOP.deliveries.none.name, "Y", 100, `${services}EmptyDeliveryService`, SHOP.currency],
      [SHOP.deliveries.courier.id, "courier", null, SHOP.deliveries.courier.name, "Y", 200, `${services}Configurable`, SHOP.currency],
      [SHOP.deliveries.pickup.id, "pickup", null, SHOP.deliveries.pickup.name, "Y", 300, `${services}Configurable`, SHOP.currency],
    ],
    { ignore: true },
  );

  // The schema file already inserts N/F/DN/DF with the stock names; the shop's win.
  await insertRows(
    pool,
    "b_sale_status",
    ["ID", "TYPE", "SORT", "NOTIFY"],
    STATUSES.map((s) => [s.id, s.type, s.sort, s.notify]),
    { updateOnDuplicate: ["TYPE", "SORT", "NOTIFY"] },
  );
  await insertRows(
    pool,
    "b_sale_status_lang",
    ["STATUS_ID", "LID", "NAME", "DESCRIPTION"],
    STATUSES.map((s) => [s.id, "ru", s.name, s.name]),
    { updateOnDuplicate: ["NAME", "DESCRIPTION"] },
  );

  await insertRows(
    pool,
    "b_user",
    [
      "ID",
      "LOGIN",
      "PASSWORD",
      "ACTIVE",
      "NAME",
      "LAST_NAME",
      "EMAIL",
      "DATE_REGISTER",
      "LID",
      "PERSONAL_PHONE",
    ],
    USERS.map((u) => [
      u.id,
      u.login,
      "$6$testsalt$not-a-real-hash",
      "Y",
      u.name,
      u.lastName,
      u.email,
      now,
      SHOP.siteId,
      u.phone,
    ]),
    { ignore: true },
  );
  await insertRows(
    pool,
    "b_sale_fuser",
    ["ID", "DATE_INSERT", "DATE_UPDATE", "USER_ID", "CODE"],
    USERS.map((u) => [u.fuserId, now, now, u.id, `fuser${u.fuserId}`]),
    { ignore: true },
  );
  return SHOP;
}
