/**
 * PHP's serialize() for the values Bitrix stores serialized: the DATA of a
 * b_sale_order_change row (`a:2:{s:9:"STATUS_ID";s:2:"DE";s:13:"OLD_STATUS_ID";s:1:"N";}`)
 * and the C_FIELDS of a b_event row. PHP counts string lengths in BYTES of
 * the string as PHP holds it, i.e. in the site's charset: UTF-8 on a UTF-8
 * site (Cyrillic letters are 2 bytes each), one byte per character on a
 * cp1251 site. A wrong length makes unserialize() fail and Bitrix shows an
 * empty history line or sends no e-mail.
 */

export type PhpValue = string | number | boolean | null | readonly PhpValue[] | PhpArray;
/** An associative PHP array; keys keep insertion order (use non-numeric keys, as Bitrix's fields are). */
export interface PhpArray {
  readonly [key: string]: PhpValue;
}

/** How the target column stores text: decides what a "byte" is. */
export type PhpCharset = "utf8" | "cp1251";

/** A decimal integer key ("12", "-3", not "012"): PHP turns such array keys into integers. */
const PHP_INT_KEY = /^(0|-?[1-9][0-9]*)$/;

export function phpByteLength(text: string, charset: PhpCharset = "utf8"): number {
  // cp1251 is one byte per character; characters it lacks are stored as '?' (still one byte).
  return charset === "utf8" ? Buffer.byteLength(text, "utf8") : [...text].length;
}

export function phpSerialize(value: PhpValue, charset: PhpCharset = "utf8"): string {
  if (value === null) return "N;";
  if (typeof value === "boolean") return `b:${value ? 1 : 0};`;
  if (typeof value === "number") {
    // Bitrix's fields here are ints and strings; a float's PHP text form is not worth guessing.
    if (!Number.isSafeInteger(value)) throw new RangeError(`phpSerialize: only integers, got ${value}`);
    return `i:${value};`;
  }
  if (typeof value === "string") return `s:${phpByteLength(value, charset)}:"${value}";`;
  const entries: Array<[string | number, PhpValue]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  const body = entries
    .map(([key, v]) => {
      const isIntKey =
        typeof key === "number" || (PHP_INT_KEY.test(key) && Number.isSafeInteger(Number(key)));
      return (isIntKey ? phpSerialize(Number(key)) : phpSerialize(key, charset)) + phpSerialize(v, charset);
    })
    .join("");
  return `a:${entries.length}:{${body}}`;
}
