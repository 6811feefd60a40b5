import { PhpLiteralParser } from "./php-literal-parser.js";
import { PhpUnreadable, type PhpValue } from "./php-value.js";

/**
 * Reads literal values out of PHP source without running PHP: Bitrix keeps
 * its database credentials in `bitrix/.settings.php` (`return array(...);`)
 * or, on old installs, in `bitrix/php_interface/dbconn.php` (`$DBHost = "...";`).
 *
 * Only literals are understood: strings, numbers, true/false/null and
 * (nested) `array(...)` / `[...]`. Anything else in a value position
 * (`getenv(...)`, constants, `.` concatenation, `$_SERVER[...]`) becomes a
 * PhpUnreadable placeholder carrying the reason and position, so that an
 * unrelated computed entry (BitrixVM writes `'sid' => $_SERVER["DOCUMENT_ROOT"]."#01"`
 * into the cache settings) does not stop us from reading the connection.
 * The caller raises the placeholder's error only if it needs that value.
 */

export { MAX_PHP_ARRAY_DEPTH, MAX_PHP_SOURCE_CHARS } from "./php-literal-parser.js";
export { type PhpArray, type PhpScalar, PhpUnreadable, type PhpValue } from "./php-value.js";

/** The value of the file's top-level `return <expr>;` (what `include` would give PHP). */
export function parsePhpReturnValue(source: string): PhpValue {
  const parser = new PhpLiteralParser(source);
  let found: PhpValue | undefined;
  parser.walkStatements((token, blockDepth) => {
    // A `return` inside a function or an if-block is not what `include` returns.
    if (blockDepth > 0 || token.kind !== "ident" || token.text.toLowerCase() !== "return") return false;
    parser.next();
    found = parser.parseValue(0, [";"]);
    parser.expectOp(";");
    return "stop";
  });
  if (found === undefined) {
    throw parser.errorAt(source.length, (at) => `no top-level "return" statement found (reached ${at})`);
  }
  return found;
}

/**
 * Top-level `$name = <literal>;` assignments, by name without `$`; the last
 * one wins, as when PHP runs the file. Other statements are stepped over.
 * An assignment inside a block (if/function/...) may or may not run, so its
 * variable is recorded as unreadable rather than guessed.
 */
export function parsePhpAssignments(source: string): Map<string, PhpValue> {
  const parser = new PhpLiteralParser(source);
  const assigned = new Map<string, PhpValue>();
  parser.walkStatements((token, blockDepth) => {
    if (token.kind !== "variable") return false;
    const op = parser.peek(1);
    if (op.kind !== "op" || !/^(?:[-+*/.%&|^]|\*\*|\?\?|<<|>>)?=$/.test(op.text)) return false;
    const name = token.text.slice(1);
    if (op.text !== "=") {
      const error = parser.errorAt(op.start, (at) => `unsupported compound assignment "${op.text}" at ${at}`);
      assigned.set(name, new PhpUnreadable(error));
      return false;
    }
    if (blockDepth > 0) {
      const error = parser.errorAt(
        token.start,
        (at) => `assignment to ${token.text} inside a block at ${at}: only top-level assignments are read`,
      );
      assigned.set(name, new PhpUnreadable(error));
      return false;
    }
    parser.next();
    parser.next();
    assigned.set(name, parser.parseValue(0, [";"]));
    return false;
  });
  return assigned;
}
