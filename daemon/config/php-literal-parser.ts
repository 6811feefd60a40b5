import { type PhpToken, tokenizePhp } from "./php-lexer.js";
import { LineIndex, PhpLiteralError } from "./php-literal-error.js";
import { type PhpArray, PhpUnreadable, type PhpValue } from "./php-value.js";

/**
 * Recursive descent over the tokens: literal values and arrays, plus a
 * statement walker that steps over any other PHP without understanding it.
 * Used through php-literal.ts.
 */

/** Larger than any real settings file by two orders of magnitude. */
export const MAX_PHP_SOURCE_CHARS = 1024 * 1024;
/** Bitrix's settings nest four or five levels deep. */
export const MAX_PHP_ARRAY_DEPTH = 64;

const UNSUPPORTED_REASON = "only literal values can be read without running PHP";

export class PhpLiteralParser {
  private readonly lines: LineIndex;
  private readonly tokens: PhpToken[];
  private pos = 0;

  constructor(source: string) {
    if (source.length > MAX_PHP_SOURCE_CHARS) {
      const message = `file is larger than ${MAX_PHP_SOURCE_CHARS} characters: not a settings file`;
      throw new PhpLiteralError(message, { line: 1, column: 1 });
    }
    this.lines = new LineIndex(source);
    this.tokens = tokenizePhp(source.replace(/^\uFEFF/, " "), this.lines);
  }

  peek(ahead = 0): PhpToken {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)] as PhpToken;
  }

  next(): PhpToken {
    const token = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return token;
  }

  errorAt(offset: number, message: (where: string) => string): PhpLiteralError {
    return this.lines.error(offset, message);
  }

  unreadableAt(offset: number, found: string, reason = UNSUPPORTED_REASON): PhpUnreadable {
    return new PhpUnreadable(
      this.errorAt(offset, (at) => `unsupported expression ${found} at ${at}: ${reason}`),
    );
  }

  /**
   * Steps through the file statement by statement. `visit` sees the first
   * token of each statement; it may consume tokens, return "stop" to end
   * the walk, or false to let the walker step over the statement. Brackets
   * are matched so that `;` inside `for (;;)` or a closure is not a boundary.
   */
  walkStatements(visit: (token: PhpToken, blockDepth: number) => boolean | "stop"): void {
    const open: string[] = [];
    let atStatementStart = true;
    for (;;) {
      const token = this.peek();
      if (token.kind === "eof") {
        if (open.length > 0) throw this.unexpected(token, `"${closerOf(open.at(-1))}"`);
        return;
      }
      const top = open.at(-1);
      if (atStatementStart && (top === undefined || top === "{")) {
        const blockDepth = open.length;
        const before = this.pos;
        if (visit(token, blockDepth) === "stop") return;
        atStatementStart = false;
        if (this.pos !== before) continue;
      }
      this.next();
      if (token.kind !== "op") continue;
      if (token.text === "(" || token.text === "[" || token.text === "{") open.push(token.text);
      else if (token.text === ")" || token.text === "]" || token.text === "}") {
        if (closerOf(open.pop()) !== token.text) throw this.unexpected(token, "a matching bracket");
      }
      // `;` inside `for (;;)` does not start a statement; a braceless loop body after `)` must not look top-level.
      const inBlock = open.length === 0 || open.at(-1) === "{";
      if ((token.text === ";" && inBlock) || token.text === "{" || token.text === "}")
        atStatementStart = true;
    }
  }

  /**
   * One value. `terminators` are the tokens that may follow it (besides
   * `=>`); anything else makes the value unreadable and is stepped over.
   */
  parseValue(depth: number, terminators: readonly string[]): PhpValue {
    const token = this.peek();
    let value: PhpValue;
    if (token.kind === "eof") throw this.unexpected(token, "a value");
    if (token.kind === "string") {
      this.next();
      value =
        token.interpolationAt === undefined
          ? token.value
          : this.unreadableAt(
              token.interpolationAt,
              '"$"',
              "variable interpolation inside a double-quoted string cannot be read without running PHP (use single quotes)",
            );
    } else if (token.kind === "heredoc") {
      this.next();
      value = this.unreadableAt(
        token.start,
        '"<<<"',
        "heredoc/nowdoc strings are not supported (use single quotes)",
      );
    } else if (token.kind === "number") {
      this.next();
      value = token.value;
    } else if (
      token.kind === "op" &&
      (token.text === "-" || token.text === "+") &&
      this.peek(1).kind === "number"
    ) {
      this.next();
      const number = this.next() as Extract<PhpToken, { kind: "number" }>;
      value = token.text === "-" ? -number.value : number.value;
    } else if (token.kind === "op" && token.text === "[") {
      this.next();
      value = this.parseArrayBody(token, "]", depth + 1);
    } else if (token.kind === "ident" && /^(?:true|false|null)$/i.test(token.text)) {
      this.next();
      const word = token.text.toLowerCase();
      value = word === "null" ? null : word === "true";
    } else if (
      token.kind === "ident" &&
      token.text.toLowerCase() === "array" &&
      this.isOp(this.peek(1), "(")
    ) {
      this.next();
      this.next();
      value = this.parseArrayBody(token, ")", depth + 1);
    } else {
      // `getenv(`, `$_SERVER[`, `Foo::`: enough to recognise the construct, no argument shown.
      const follower = this.peek(1);
      const shown =
        (token.kind === "ident" || token.kind === "variable") &&
        follower.kind === "op" &&
        ["(", "[", "::"].includes(follower.text)
          ? follower.text
          : "";
      value = this.unreadableAt(token.start, `"${describeToken(token)}${shown}"`);
    }
    const after = this.peek();
    if (after.kind === "op" && (terminators.includes(after.text) || after.text === "=>")) return value;
    if (after.kind === "eof") throw this.unexpected(after, terminators.map((t) => `"${t}"`).join(" or "));
    const unreadable =
      value instanceof PhpUnreadable ? value : this.unreadableAt(after.start, `"${describeToken(after)}"`);
    this.skipExpression();
    return unreadable;
  }

  expectOp(text: string): void {
    const token = this.peek();
    if (!this.isOp(token, text)) throw this.unexpected(token, `"${text}"`);
    this.next();
  }

  private isOp(token: PhpToken, text: string): boolean {
    return token.kind === "op" && token.text === text;
  }

  /** After `array(` or `[`: entries up to the closing bracket, PHP's key rules included. */
  private parseArrayBody(opener: PhpToken, close: ")" | "]", depth: number): PhpValue {
    if (depth > MAX_PHP_ARRAY_DEPTH) {
      throw this.errorAt(
        opener.start,
        (at) => `arrays nested deeper than ${MAX_PHP_ARRAY_DEPTH} levels at ${at}`,
      );
    }
    const entries: PhpArray = new Map();
    let nextIndex = 0;
    let keyProblem: PhpUnreadable | undefined;
    while (!this.isOp(this.peek(), close)) {
      let key: PhpValue | undefined;
      let value = this.parseValue(depth, [",", close]);
      if (this.isOp(this.peek(), "=>")) {
        const arrow = this.next();
        key = value;
        value = this.parseValue(depth, [",", close]);
        if (this.isOp(this.peek(), "=>")) throw this.unexpected(this.peek(), `"," or "${close}"`);
        const arrayKey = toArrayKey(key);
        if (arrayKey === undefined) keyProblem ??= this.unreadableKey(key, arrow.start);
        else {
          entries.set(arrayKey, value);
          if (typeof arrayKey === "number" && arrayKey >= nextIndex) nextIndex = arrayKey + 1;
        }
      } else {
        entries.set(nextIndex++, value);
      }
      if (this.isOp(this.peek(), ",")) this.next();
      else if (!this.isOp(this.peek(), close)) throw this.unexpected(this.peek(), `"," or "${close}"`);
    }
    this.next();
    // Without its key an entry cannot be found, and a lookup would wrongly report it missing.
    return keyProblem ?? entries;
  }

  private unreadableKey(key: PhpValue, arrowOffset: number): PhpUnreadable {
    if (key instanceof PhpUnreadable) return key;
    return this.unreadableAt(arrowOffset, '"=>"', "an array key must be a string or an integer");
  }

  /** Steps over an unsupported expression up to the next `,` `=>` `;` or closing bracket at its level. */
  private skipExpression(): void {
    const open: string[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind === "eof") return;
      if (token.kind === "op") {
        if (open.length === 0 && [",", "=>", ";", ")", "]", "}"].includes(token.text)) return;
        if (token.text === "(" || token.text === "[" || token.text === "{") open.push(token.text);
        else if (token.text === ")" || token.text === "]" || token.text === "}") {
          if (closerOf(open.pop()) !== token.text) throw this.unexpected(token, "a matching bracket");
        }
      }
      this.next();
    }
  }

  private unexpected(token: PhpToken, expected: string): PhpLiteralError {
    const found = token.kind === "eof" ? "end of file" : `"${describeToken(token)}"`;
    return this.errorAt(token.start, (at) =>
      token.kind === "eof"
        ? `unexpected end of file at ${at}: expected ${expected} (is the file truncated?)`
        : `unexpected ${found} at ${at}: expected ${expected}`,
    );
  }
}

function closerOf(opener: string | undefined): string | undefined {
  return opener === "(" ? ")" : opener === "[" ? "]" : opener === "{" ? "}" : undefined;
}

/** What a message may show of a token: never a string's or number's contents (they may be a password). */
function describeToken(token: PhpToken): string {
  switch (token.kind) {
    case "string":
      return "<string literal>";
    case "heredoc":
      return "<<<";
    case "number":
      return "<number>";
    case "eof":
      return "<end of file>";
    default:
      return token.text.length > 40 ? `${token.text.slice(0, 40)}...` : token.text;
  }
}

/** PHP's array key casts: "5" -> 5, 1.7 -> 1, true -> 1, null -> "". Arrays cannot be keys. */
function toArrayKey(key: PhpValue): string | number | undefined {
  if (typeof key === "string") {
    const asInt = /^(?:0|-?[1-9]\d*)$/.test(key) ? Number(key) : Number.NaN;
    return Number.isSafeInteger(asInt) ? asInt : key;
  }
  if (typeof key === "number") return Number.isFinite(key) ? Math.trunc(key) : undefined;
  if (typeof key === "boolean") return key ? 1 : 0;
  if (key === null) return "";
  return undefined;
}
