/**
 * What the demo's customers order: realistic cvety.kz orders (Cyrillic names,
 * KZT prices, the shop's property codes), varied by a counter so each new order
 * looks different. Pure: the Bitrix writes are done by the test harness's
 * createOrder() (test/support/bitrix-writer.ts).
 */
import type { BasketLine, OrderSpec } from "../../test/support/bitrix-order-spec.js";
import { SHOP } from "../../test/support/bitrix-shop.js";

const BOUQUETS: readonly BasketLine[] = [
  { productId: 696613, name: "Букет Стандарт", price: 15000, quantity: 1, productXmlId: "696613" },
  { productId: 696620, name: "Букет «Нежность», 25 роз", price: 32500, quantity: 1, productXmlId: "696620" },
  { productId: 696631, name: "Тюльпаны микс, 51 шт", price: 45900, quantity: 1, productXmlId: "696631" },
  { productId: 696644, name: "Пионы в шляпной коробке", price: 27800, quantity: 1, productXmlId: "696644" },
];

const EXTRAS: readonly BasketLine[] = [
  { productId: 702211, name: "Открытка «С любовью»", price: 500, quantity: 1, productXmlId: "702211" },
  {
    productId: 705030,
    name: "Шоколад Рахат «Казахстанский»",
    price: 1250.5,
    quantity: 2,
    productXmlId: null,
  },
  { productId: 709101, name: "Мишка Тедди, 30 см", price: 4990, quantity: 1, productXmlId: "709101" },
];

const RECIPIENTS = [
  { name: "Мадина", phone: "+77017654321", address: "ул. Кенесары 40, кв 12" },
  { name: "Гульнара Ахметова", phone: "+77072223344", address: "пр. Абая 150, офис 3" },
  { name: "Асель", phone: "+77783334455", address: "мкр. Самал-2, д. 58" },
  { name: "Дана Нурланова", phone: "+77014445566", address: "ул. Сыганак 18, кв 201" },
] as const;

const POSTCARDS = ["С днём рождения!", "Люблю тебя", "Поздравляю с 8 Марта!", "Спасибо за всё"] as const;

/** The shop's customers that have a name (the fourth registered by phone only). */
const CUSTOMERS = SHOP.users.filter((user) => user.name !== null);

function pick<T>(list: readonly T[], n: number): T {
  return list[n % list.length] as T;
}

/** The n-th demo order (0, 1, 2...); `deliveryDate` is the `data` property, YYYY-MM-DD. */
export function demoOrderSpec(n: number, deliveryDate: string): Partial<OrderSpec> {
  const customer = pick(CUSTOMERS, n);
  const recipient = pick(RECIPIENTS, n + 1);
  const basket = [pick(BOUQUETS, n), ...(n % 2 === 0 ? [pick(EXTRAS, n / 2)] : [])];
  const kaspi = n % 3 !== 0;
  return {
    userId: customer.id,
    basket,
    priceDelivery: n % 4 === 3 ? 0 : 1500,
    paySystemId: kaspi ? SHOP.paySystems.kaspi.id : SHOP.paySystems.cash.id,
    properties: {
      name: [customer.name, customer.lastName].filter(Boolean).join(" "),
      phone: customer.phone,
      email: customer.email,
      nameRecipient: recipient.name,
      phoneRecipient: recipient.phone,
      addressRecipient: recipient.address,
      data: deliveryDate,
      when: String(10 + ((n * 3) % 10)),
      postcardText: pick(POSTCARDS, n),
      notes: n % 2 === 0 ? "Позвонить получателю за час" : null,
    },
  };
}

/** The name the CRM shows for an order: the `name` property, else the customer's account name. */
export function customerNameOf(data: Record<string, unknown> | undefined): string {
  const properties = data?.["properties"] as Record<string, unknown> | undefined;
  if (typeof properties?.["name"] === "string" && properties["name"] !== "") return properties["name"];
  const user = data?.["user"] as Record<string, unknown> | undefined;
  const name = [user?.["NAME"], user?.["LAST_NAME"]].filter((v) => typeof v === "string" && v !== "");
  return name.length > 0 ? name.join(" ") : "?";
}
