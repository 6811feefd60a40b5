import { type PhpToken, tokenizePhp } from "../../daemon/config/php-lexer.js";
import { LineIndex, PhpLiteralError } from "../../daemon/config/php-literal-error.js";
import { InstallStepError } from "../install-errors.js";

/**
 * Finds the old PHP webhook in a Bitrix init.php, without running PHP. The
 * CRM team's hook came in three shapes (their deploy script and docs):
 *  - a block appended between `// === WEBHOOK INTEGRATION START ===` and
 *    `// === WEBHOOK INTEGRATION END ===` (production_webhook_integration.php);
 *  - `require_once .../webhook_integration.php;` in local/php_interface/init.php;
 *  - the same code pasted without markers: `AddEventHandler("sale",
 *    "OnSaleOrderSaved", "OnSaleOrderSavedHandler")` and friends, whose handler
 *    functions talk about the webhook (PYTHON_CRM_WEBHOOK_URL, sendOrderWebhookToPythonCRM).
 * Handlers of the shop's own code are left alone: a handler counts only when
 * the statement or the function it names mentions "webhook".
 *
 * Whole lines are commented out, so each one must hold nothing but the hook:
 * a line shared with other code, or holding `?>` (which ends a `//` comment),
 * is refused with its line number rather than guessed at.
 */

export const COMMENT_PREFIX = "// [cvety-sidecar] ";

export interface HookFinding {
  /** 1-based, ascending, no duplicates. */
  lines: number[];
  /** One per hook piece: "WEBHOOK INTEGRATION block (lines 40-420)". */
  reasons: string[];
}

const MARKER_START = /^\s*\/\/\s*=+\s*WEBHOOK INTEGRATION START\s*=+\s*$/i;
const MARKER_END = /^\s*\/\/\s*=+\s*WEBHOOK INTEGRATION END\s*=+\s*$/i;
const INCLUDE_RE = /^(?:require|include)(?:_once)?$/i;
const HOOK_FILE_RE = /webhook_integration\.php/i;
const WEBHOOK_RE = /webhook/i;

export class PhpHookError extends InstallStepError {
  constructor(message: string) {
    super("E_PHP_HOOK", message);
    this.name = "PhpHookError";
  }
}

export function findPhpHook(source: string, file: string): HookFinding {
  const lines = source.split("\n");
  const found = new Map<number, true>();
  const reasons: string[] = [];
  const take = (from: number, to: number, reason: string) => {
    for (let n = from; n <= to; n++) found.set(n, true);
    reasons.push(from === to ? `${reason} (line ${from})` : `${reason} (lines ${from}-${to})`);
  };

  for (const [from, to] of markerBlocks(lines, file)) take(from, to, "WEBHOOK INTEGRATION block");

  const index = new LineIndex(source);
  const tokens = tokenize(source, index, file);
  for (const statement of splitStatements(tokens)) {
    const what = describeHookStatement(statement, tokens, source);
    if (what === undefined) continue;
    const first = statement[0] as PhpToken;
    const last = statement[statement.length - 1] as PhpToken;
    const from = index.at(first.start).line;
    const to = index.at(last.start).line;
    if (found.has(from) && found.has(to)) continue; // inside a marker block
    assertOwnLines(lines, index, first.start, last.start + 1, file, what);
    take(from, to, what);
  }

  for (const n of found.keys()) {
    if ((lines[n - 1] ?? "").includes("?>")) {
      throw new PhpHookError(
        `${file}:${n}: the webhook code contains "?>", which would end a // comment: comment it out by hand`,
      );
    }
  }
  return { lines: [...found.keys()].sort((a, b) => a - b), reasons };
}

/** Prefixes each listed line with COMMENT_PREFIX; keeps every other byte (and CRLF endings) as it is. */
export function commentOutLines(source: string, lineNumbers: readonly number[]): string {
  const lines = source.split("\n");
  for (const n of lineNumbers) lines[n - 1] = `${COMMENT_PREFIX}${lines[n - 1] ?? ""}`;
  return lines.join("\n");
}

function tokenize(source: string, index: LineIndex, file: string): PhpToken[] {
  try {
    return tokenizePhp(source, index);
  } catch (err) {
    if (err instanceof PhpLiteralError)
      throw new PhpHookError(`${file}: cannot read the PHP: ${err.message}`);
    throw err;
  }
}

function markerBlocks(lines: readonly string[], file: string): Array<[number, number]> {
  const blocks: Array<[number, number]> = [];
  let start: number | undefined;
  lines.forEach((line, i) => {
    if (MARKER_START.test(line)) {
      if (start !== undefined)
        throw new PhpHookError(`${file}:${i + 1}: a second WEBHOOK INTEGRATION START before END`);
      start = i + 1;
    } else if (MARKER_END.test(line)) {
      if (start === undefined)
        throw new PhpHookError(`${file}:${i + 1}: WEBHOOK INTEGRATION END without START`);
      blocks.push([start, i + 1]);
      start = undefined;
    }
  });
  if (start !== undefined) throw new PhpHookError(`${file}:${start}: WEBHOOK INTEGRATION START without END`);
  return blocks;
}

/** Statements as token runs ending with `;` (or `?>`); `{` and `}` also end a run (blocks, functions). */
function splitStatements(tokens: readonly PhpToken[]): PhpToken[][] {
  const statements: PhpToken[][] = [];
  let current: PhpToken[] = [];
  for (const token of tokens) {
    if (token.kind === "op" && (token.text === "{" || token.text === "}")) {
      current = [];
      continue;
    }
    if (token.kind === "eof") break;
    current.push(token);
    if (token.kind === "op" && token.text === ";") {
      statements.push(current);
      current = [];
    }
  }
  return statements;
}

/** What the statement is when it belongs to the hook, else undefined. */
function describeHookStatement(
  statement: readonly PhpToken[],
  tokens: readonly PhpToken[],
  source: string,
): string | undefined {
  const strings = statement.flatMap((t) => (t.kind === "string" ? [t.value] : []));
  if (statement.some((t) => t.kind === "ident" && INCLUDE_RE.test(t.text))) {
    return strings.some((s) => HOOK_FILE_RE.test(s)) ? "include of webhook_integration.php" : undefined;
  }
  const call = statement.findIndex(
    (t, i) => t.kind === "ident" && /^addEventHandler$/i.test(t.text) && isOp(statement[i + 1], "("),
  );
  if (call === -1) return undefined;
  const [module = "?", event = "?", handler] = strings;
  const statementText = source.slice(statement[0]?.start ?? 0, statement[statement.length - 1]?.start ?? 0);
  const handlerIsHook =
    WEBHOOK_RE.test(statementText) ||
    (handler !== undefined && functionMentionsWebhook(tokens, source, handler));
  return handlerIsHook ? `${module}/${event} handler ${handler ?? "(inline)"}` : undefined;
}

/** True when `function <name>(...) { ... }` in this file mentions "webhook" in its body. */
function functionMentionsWebhook(tokens: readonly PhpToken[], source: string, name: string): boolean {
  for (let i = 0; i + 1 < tokens.length; i++) {
    const keyword = tokens[i] as PhpToken;
    const id = tokens[i + 1] as PhpToken;
    if (keyword.kind !== "ident" || keyword.text.toLowerCase() !== "function") continue;
    // PHP function names are case-insensitive.
    if (id.kind !== "ident" || id.text.toLowerCase() !== name.toLowerCase()) continue;
    const open = tokens.findIndex((t, j) => j > i && isOp(t, "{"));
    if (open === -1) return false;
    const bodyStart = (tokens[open] as PhpToken).start;
    let depth = 0;
    for (let j = open; j < tokens.length; j++) {
      const t = tokens[j] as PhpToken;
      if (isOp(t, "{")) depth++;
      else if (isOp(t, "}") && --depth === 0) return WEBHOOK_RE.test(source.slice(bodyStart, t.start));
    }
    return false;
  }
  return false;
}

function isOp(token: PhpToken | undefined, text: string): boolean {
  return token?.kind === "op" && token.text === text;
}

/** The statement must be alone on its lines (a trailing // or # comment is fine). */
function assertOwnLines(
  lines: readonly string[],
  index: LineIndex,
  start: number,
  end: number,
  file: string,
  what: string,
): void {
  const first = index.at(start);
  const last = index.at(end);
  const before = (lines[first.line - 1] ?? "").slice(0, first.column - 1);
  const after = (lines[last.line - 1] ?? "").slice(last.column - 1).trim();
  if (before.trim() !== "" || !(after === "" || after.startsWith("//") || after.startsWith("#"))) {
    throw new PhpHookError(
      `${file}:${first.line}: the ${what} shares its line with other code; comment it out by hand, then run again`,
    );
  }
}
