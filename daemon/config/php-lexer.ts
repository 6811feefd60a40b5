import type { LineIndex, PhpLiteralError } from "./php-literal-error.js";

/**
 * Splits PHP source into tokens, enough to read literal arrays and to step
 * over any other statement without understanding it. Nothing is evaluated.
 * Lexing errors (an unterminated string or comment, a malformed number) are
 * fatal: past them the rest of the file cannot be located reliably.
 */

export type PhpToken =
  | {
      kind: "string";
      start: number;
      value: string /** offset of the first `$x`/`{$` inside "..." */;
      interpolationAt?: number;
    }
  | { kind: "heredoc"; start: number }
  | { kind: "number"; start: number; value: number; text: string }
  | { kind: "ident"; start: number; text: string }
  | { kind: "variable"; start: number; text: string }
  | { kind: "op"; start: number; text: string }
  | { kind: "eof"; start: number };

/** Longest first, so `===` is not read as `==` + `=`. */
const MULTI_CHAR_OPS = [
  "<<<",
  "===",
  "!==",
  "**=",
  "??=",
  "<=>",
  "...",
  "<<=",
  ">>=",
  "?->",
  "==",
  "!=",
  "<>",
  "<=",
  ">=",
  "=>",
  "->",
  "::",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  ".=",
  "%=",
  "&=",
  "|=",
  "^=",
  "&&",
  "||",
  "??",
  "<<",
  ">>",
  "**",
];

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_RE =
  /\\?[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*(?:\\[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)*/y;
const VARIABLE_RE = /\$[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*/y;
const OPEN_TAG_RE = /<\?php(?=\s|$)|<\?=/gi;
const HEREDOC_HEADER_RE = /<<<[ \t]*(["']?)([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)\1\r?\n/y;
const NUMBER_RES: Array<[RegExp, (text: string) => number]> = [
  [/0[xX][0-9a-fA-F]+(?:_[0-9a-fA-F]+)*/y, (t) => Number.parseInt(t.slice(2), 16)],
  [/0[bB][01]+(?:_[01]+)*/y, (t) => Number.parseInt(t.slice(2), 2)],
  [/0[oO][0-7]+(?:_[0-7]+)*/y, (t) => Number.parseInt(t.slice(2), 8)],
  [
    /(?:\d+(?:_\d+)*)?\.\d+(?:_\d+)*(?:[eE][+-]?\d+(?:_\d+)*)?|\d+(?:_\d+)*\.(?:\d+(?:_\d+)*)?(?:[eE][+-]?\d+(?:_\d+)*)?|\d+(?:_\d+)*[eE][+-]?\d+(?:_\d+)*/y,
    (t) => Number.parseFloat(t),
  ],
  // A leading 0 means octal in PHP (`0755`); `089` is a PHP parse error.
  [/0[0-7]+(?:_[0-7]+)*(?![\d_])/y, (t) => Number.parseInt(t.slice(1), 8)],
  [/[1-9]\d*(?:_\d+)*|0(?![\d_])/y, (t) => Number.parseInt(t, 10)],
];

/** Single-character escapes PHP honours in double-quoted strings. */
const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  v: "\v",
  e: "\x1b",
  f: "\f",
  "\\": "\\",
  $: "$",
  '"': '"',
};

export function tokenizePhp(source: string, lines: LineIndex): PhpToken[] {
  const tokens: PhpToken[] = [];
  const fail = (offset: number, message: (where: string) => string): PhpLiteralError =>
    lines.error(offset, message);

  // Everything before the first `<?php` is inline HTML, which a config file has none of.
  let pos = findOpenTag(source, 0);
  if (pos === -1) throw fail(0, (at) => `no "<?php" opening tag found (at ${at}): not a PHP file`);

  while (pos < source.length) {
    const c = source[pos] as string;
    const start = pos;
    if (/\s/.test(c)) {
      pos++;
    } else if (c === "?" && source[pos + 1] === ">") {
      // `?>` ends a statement like `;`, then inline HTML runs to the next `<?php`.
      tokens.push({ kind: "op", start, text: ";" });
      const next = findOpenTag(source, pos + 2);
      pos = next === -1 ? source.length : next;
    } else if (c === "#" || (c === "/" && source[pos + 1] === "/")) {
      pos = endOfLineComment(source, pos);
    } else if (c === "/" && source[pos + 1] === "*") {
      const end = source.indexOf("*/", pos + 2);
      if (end === -1) throw fail(start, (at) => `unterminated /* comment starting at ${at}`);
      pos = end + 2;
    } else if (c === "'") {
      pos = readSingleQuoted(source, pos, tokens, fail);
    } else if (c === '"') {
      pos = readDoubleQuoted(source, pos, tokens, fail);
    } else if (c === "<" && source.startsWith("<<<", pos) && matchAt(HEREDOC_HEADER_RE, source, pos)) {
      pos = readHeredoc(source, pos, tokens, fail);
    } else if (c === "$" && matchAt(VARIABLE_RE, source, pos)) {
      const text = matchAt(VARIABLE_RE, source, pos) as string;
      tokens.push({ kind: "variable", start, text });
      pos += text.length;
    } else if (/\d/.test(c) || (c === "." && /\d/.test(source[pos + 1] ?? ""))) {
      pos = readNumber(source, pos, tokens, fail);
    } else if (IDENT_START.test(c) || (c === "\\" && IDENT_START.test(source[pos + 1] ?? ""))) {
      const text = matchAt(IDENT_RE, source, pos) as string;
      tokens.push({ kind: "ident", start, text });
      pos += text.length;
    } else {
      const text = MULTI_CHAR_OPS.find((op) => source.startsWith(op, pos)) ?? c;
      tokens.push({ kind: "op", start, text });
      pos += text.length;
    }
  }
  tokens.push({ kind: "eof", start: source.length });
  return tokens;
}

function findOpenTag(source: string, from: number): number {
  OPEN_TAG_RE.lastIndex = from;
  const match = OPEN_TAG_RE.exec(source);
  if (!match) return -1;
  // `<?=` is `<?php echo`: never in a config file, and not a literal anyway.
  return match.index + (match[0] === "<?=" ? 2 : match[0].length);
}

function matchAt(re: RegExp, source: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(source)?.[0];
}

/** A `//` or `#` comment ends at the line end or at `?>`, which still closes PHP mode. */
function endOfLineComment(source: string, pos: number): number {
  const newline = source.indexOf("\n", pos);
  const end = newline === -1 ? source.length : newline;
  const close = source.indexOf("?>", pos);
  return close !== -1 && close < end ? close : end;
}

type Fail = (offset: number, message: (where: string) => string) => PhpLiteralError;

/** '...': only `\'` and `\\` are escapes; any other backslash is kept. */
function readSingleQuoted(source: string, start: number, tokens: PhpToken[], fail: Fail): number {
  let value = "";
  let pos = start + 1;
  while (pos < source.length) {
    const c = source[pos] as string;
    if (c === "'") {
      tokens.push({ kind: "string", start, value });
      return pos + 1;
    }
    const next = source[pos + 1];
    if (c === "\\" && (next === "'" || next === "\\")) {
      value += next;
      pos += 2;
    } else {
      value += c;
      pos++;
    }
  }
  throw fail(start, (at) => `unterminated single-quoted string starting at ${at}`);
}

/**
 * "...": PHP strings are bytes, so `\xD0\x9F` must become one character
 * (UTF-8 "П"); byte escapes are collected and decoded together.
 */
function readDoubleQuoted(source: string, start: number, tokens: PhpToken[], fail: Fail): number {
  let value = "";
  let bytes: number[] = [];
  let interpolationAt: number | undefined;
  const flush = () => {
    if (bytes.length > 0) value += Buffer.from(bytes).toString("utf8");
    bytes = [];
  };
  const text = (s: string) => {
    flush();
    value += s;
  };
  let pos = start + 1;
  while (pos < source.length) {
    const c = source[pos] as string;
    const next = source[pos + 1] ?? "";
    if (c === '"') {
      flush();
      tokens.push(
        interpolationAt === undefined
          ? { kind: "string", start, value }
          : { kind: "string", start, value, interpolationAt },
      );
      return pos + 1;
    }
    if (c === "$" && (IDENT_START.test(next) || next === "{")) {
      interpolationAt ??= pos;
      text(c);
      pos++;
    } else if (c === "{" && next === "$") {
      interpolationAt ??= pos;
      text(c);
      pos++;
    } else if (c !== "\\") {
      text(c);
      pos++;
    } else if (DOUBLE_QUOTED_ESCAPES[next] !== undefined) {
      text(DOUBLE_QUOTED_ESCAPES[next]);
      pos += 2;
    } else if (next === "x" && /[0-9a-fA-F]/.test(source[pos + 2] ?? "")) {
      const hex = /[0-9a-fA-F]{1,2}/y;
      const digits = matchAt(hex, source, pos + 2) as string;
      bytes.push(Number.parseInt(digits, 16));
      pos += 2 + digits.length;
    } else if (/[0-7]/.test(next)) {
      const digits = matchAt(/[0-7]{1,3}/y, source, pos + 1) as string;
      bytes.push(Number.parseInt(digits, 8) & 0xff);
      pos += 1 + digits.length;
    } else if (next === "u" && source[pos + 2] === "{") {
      const digits = matchAt(/[0-9a-fA-F]+(?=\})/y, source, pos + 3);
      const codePoint = digits === undefined ? Number.NaN : Number.parseInt(digits, 16);
      if (!(codePoint <= 0x10ffff)) throw fail(pos, (at) => `invalid \\u{...} escape at ${at}`);
      text(String.fromCodePoint(codePoint));
      pos += 4 + (digits?.length ?? 0);
    } else {
      // PHP keeps unknown escapes as written: "\d" is a backslash and a d.
      text(c);
      pos++;
    }
  }
  throw fail(start, (at) => `unterminated double-quoted string starting at ${at}`);
}

/** Heredoc and nowdoc are only located (so the rest of the file can be read), never decoded. */
function readHeredoc(source: string, start: number, tokens: PhpToken[], fail: Fail): number {
  HEREDOC_HEADER_RE.lastIndex = start;
  const header = HEREDOC_HEADER_RE.exec(source) as RegExpExecArray;
  const label = header[2] as string;
  // PHP 7.3+: the closing label may be indented and followed by `;`, `,`, `)`...
  const closing = new RegExp(`^[ \\t]*${label}(?![\\w\\u0080-\\uffff])`, "gm");
  closing.lastIndex = start + header[0].length;
  const match = closing.exec(source);
  if (!match) throw fail(start, (at) => `unterminated heredoc/nowdoc starting at ${at}`);
  tokens.push({ kind: "heredoc", start });
  return match.index + match[0].length;
}

function readNumber(source: string, start: number, tokens: PhpToken[], fail: Fail): number {
  for (const [re, toNumber] of NUMBER_RES) {
    const text = matchAt(re, source, start);
    if (text === undefined) continue;
    const end = start + text.length;
    if (/[\w\u0080-\uffff]/.test(source[end] ?? "")) break;
    tokens.push({ kind: "number", start, value: toNumber(text.replaceAll("_", "")), text });
    return end;
  }
  throw fail(start, (at) => `invalid number at ${at}`);
}
