/**
 * What a test order is made of, and the realistic defaults of the cvety.kz shop:
 * three basket lines with Cyrillic names and a fractional price, and the
 * delivery properties the CRM reads by CODE.
 */
import { SHOP } from "./bitrix-shop.js";
import type { SqlValue } from "./sql-rows.js";

export interface BasketLine {
  productId: number;
  name: string;
  /** Unit price in the order currency. */
  price: number;
  quantity: number;
  discountPrice?: number;
  productXmlId?: string | null;
}

export interface OrderSpec {
  siteId: string;
  personTypeId: number;
  userId: number;
  statusId: string;
  currency: string;
  payed: "Y" | "N";
  priceDelivery: number;
  basket: BasketLine[];
  /** By property CODE (or NAME of the code-less one); merged over the defaults; null leaves one out. */
  properties: Record<string, string | null>;
  paySystemId: number;
  deliveryId: number;
  userDescription: string | null;
  comments: string | null;
  /** Any other b_sale_order columns for the INSERT (checked against the table). */
  fields: Record<string, SqlValue>;
}

export const DEFAULT_BASKET: readonly BasketLine[] = [
  { productId: 696613, name: "Букет Стандарт", price: 15000, quantity: 1, productXmlId: "696613" },
  { productId: 702211, name: "Открытка «С любовью»", price: 500, quantity: 1, productXmlId: "702211" },
  {
    productId: 705030,
    name: "Шоколад Рахат «Казахстанский»",
    price: 1250.5,
    quantity: 2,
    productXmlId: null,
  },
];

export const DEFAULT_PROPERTIES: Readonly<Record<string, string>> = {
  name: "Айгерим",
  phone: "+77011234567",
  email: "a@example.kz",
  nameRecipient: "Мадина",
  phoneRecipient: "+77017654321",
  addressRecipient: "ул. Кенесары 40, кв 12",
  data: "2025-08-27",
  when: "18",
  notes: "Позвонить получателю за час",
  postcardText: "С днём рождения!",
  city: "2",
  shopId: "17008",
  SOURCE_ORDER: "site",
  [SHOP.unnamedProperty.name]: "Домофон 12, третий этаж",
};

/** Amounts rounded to whole tiyn (2 decimals), like the shop's prices. */
export function money(value: number): number {
  return Math.round(value * 100) / 100;
}

export function basketTotal(lines: readonly { price: number; quantity: number }[]): number {
  return money(lines.reduce((sum, line) => sum + line.price * line.quantity, 0));
}
