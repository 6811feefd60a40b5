import type { PhpLiteralError } from "./php-literal-error.js";

/** What reading PHP literals yields: PHP's scalar types, ordered arrays, or "not a literal". */

export type PhpScalar = string | number | boolean | null;
/** Keys as PHP stores them: decimal-integer strings ("5") become numbers. */
export type PhpArray = Map<string | number, PhpValue>;
export type PhpValue = PhpScalar | PhpArray | PhpUnreadable;

/** A value that is not a literal; `error` says what was found and where. */
export class PhpUnreadable {
  constructor(readonly error: PhpLiteralError) {}
}
