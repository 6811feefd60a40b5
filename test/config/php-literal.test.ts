import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  PhpUnreadable,
  type PhpValue,
  parsePhpAssignments,
  parsePhpReturnValue,
} from "../../daemon/config/php-literal.js";
import { PhpLiteralError } from "../../daemon/config/php-literal-error.js";

/** Plain JS for deepEqual; unreadable values become "UNREADABLE <message>". */
function plain(value: PhpValue | undefined): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value instanceof PhpUnreadable) return `UNREADABLE ${value.error.message}`;
  return value;
}

function returned(body: string): unknown {
  return plain(parsePhpReturnValue(`<?php\nreturn ${body};\n`));
}

function fatal(source: string): PhpLiteralError {
  try {
    parsePhpReturnValue(source);
  } catch (err) {
    assert.ok(err instanceof PhpLiteralError, `expected PhpLiteralError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the source to be rejected");
}

describe("parsePhpReturnValue", () => {
  it("reads integers in every PHP notation", () => {
    assert.deepEqual(returned("[42, -7, +3, 0x1F, -0x10, 0755, 0o17, 0b101, 1_000_000, 0]"), {
      0: 42,
      1: -7,
      2: 3,
      3: 31,
      4: -16,
      5: 493,
      6: 15,
      7: 5,
      8: 1_000_000,
      9: 0,
    });
  });

  it("reads floats such as var_export's 2.0 and exponents", () => {
    assert.deepEqual(returned("[2.0, 1e3, .5, 1.5E-2, 3600.0]"), {
      0: 2,
      1: 1000,
      2: 0.5,
      3: 0.015,
      4: 3600,
    });
  });

  it("reads true, false and null in any letter case", () => {
    assert.deepEqual(returned("[true, TRUE, False, null, NULL]"), {
      0: true,
      1: true,
      2: false,
      3: null,
      4: null,
    });
  });

  it("decodes single-quoted strings with only \\' and \\\\ as escapes", () => {
    assert.equal(returned(String.raw`'it\'s a \\ back\slash \n'`), String.raw`it's a \ back\slash \n`);
  });

  it("decodes double-quoted escapes, hex, octal and \\u{...}", () => {
    assert.equal(
      returned(String.raw`"a\tb\nc\\d\$e\"f\x41\101\u{41}\u{1F600}\e\v\f\r\q"`),
      'a\tb\nc\\d$e"fAAA😀\x1b\v\f\r\\q',
    );
  });

  it("joins UTF-8 byte escapes into one character", () => {
    assert.equal(returned(String.raw`"\xD0\x9F\320\260"`), "Па");
  });

  it("keeps Cyrillic text as written", () => {
    assert.equal(returned("'Пароль'"), "Пароль");
  });

  it("reads nested array() and [] with trailing commas, string and int keys", () => {
    const value = returned(`array (
      'a' => array ('b' => [1, 2,], ),
      'c' => [],
      7 => 'seven',
      'positional',
    )`);
    assert.deepEqual(value, { a: { b: { 0: 1, 1: 2 } }, c: {}, 7: "seven", 8: "positional" });
  });

  it("applies PHP's key rules: numeric strings become ints, later keys overwrite", () => {
    const value = parsePhpReturnValue(`<?php return ['5' => 'a', 'x', '05' => 'b', 'k' => 1, 'k' => 2];`);
    assert.ok(value instanceof Map);
    assert.equal(value.get(5), "a");
    assert.equal(value.get(6), "x");
    assert.equal(value.get("05"), "b");
    assert.equal(value.get("k"), 2);
  });

  it("skips //, # and /* */ comments and anything before the return", () => {
    const source = `<?php
      # hash comment
      // line comment with 'quote
      /* block
         comment */
      if (!defined('B_PROLOG_INCLUDED')) { $x = 1; }
      return [ /* inline */ 'a' => 1, // trailing
        'b' => 2 # another
      ];`;
    assert.deepEqual(plain(parsePhpReturnValue(source)), { a: 1, b: 2 });
  });

  it("ignores a return inside a function body", () => {
    const source = "<?php function f() { return ['inner' => 1]; }\nreturn ['outer' => 2];";
    assert.deepEqual(plain(parsePhpReturnValue(source)), { outer: 2 });
  });

  it("marks a function call as unreadable with its line:column, without giving up on the rest", () => {
    const value = parsePhpReturnValue(
      "<?php\nreturn [\n  'pass' => getenv('DB_PASS'),\n  'host' => 'db',\n];",
    );
    assert.ok(value instanceof Map);
    assert.equal(value.get("host"), "db");
    const pass = value.get("pass");
    assert.ok(pass instanceof PhpUnreadable);
    assert.equal(
      pass.error.message,
      'unsupported expression "getenv(" at line 3:13: only literal values can be read without running PHP',
    );
    assert.equal(pass.error.line, 3);
    assert.equal(pass.error.column, 13);
  });

  it("marks constants, __DIR__, variables and concatenation as unreadable", () => {
    const value = parsePhpReturnValue(
      "<?php return ['a' => DB_PASS, 'b' => __DIR__ . '/x', 'c' => $_SERVER['X'], 'd' => 'a' . 'b', 'e' => 1];",
    );
    assert.deepEqual(plain(value), {
      a: 'UNREADABLE unsupported expression "DB_PASS" at line 1:22: only literal values can be read without running PHP',
      b: 'UNREADABLE unsupported expression "__DIR__" at line 1:38: only literal values can be read without running PHP',
      c: 'UNREADABLE unsupported expression "$_SERVER[" at line 1:61: only literal values can be read without running PHP',
      d: 'UNREADABLE unsupported expression "." at line 1:87: only literal values can be read without running PHP',
      e: 1,
    });
  });

  it("marks interpolation in double quotes as unreadable without quoting the string", () => {
    const value = parsePhpReturnValue('<?php return ["pw" => "Sup3r$ecret", "pw2" => "x{$y}"];');
    assert.ok(value instanceof Map);
    const pw = value.get("pw");
    assert.ok(pw instanceof PhpUnreadable);
    assert.match(pw.error.message, /unsupported expression "\$" at line 1:29: variable interpolation/);
    assert.ok(!pw.error.message.includes("Sup3r"));
    assert.ok(value.get("pw2") instanceof PhpUnreadable);
  });

  it("marks heredoc and nowdoc as unreadable but reads past them", () => {
    const value = parsePhpReturnValue(
      "<?php return ['a' => <<<EOT\nline $x\nEOT,\n 'b' => <<<'N'\n raw\n N,\n 'c' => 3];",
    );
    assert.ok(value instanceof Map);
    assert.ok(value.get("a") instanceof PhpUnreadable);
    assert.ok(value.get("b") instanceof PhpUnreadable);
    assert.equal(value.get("c"), 3);
  });

  it("makes the whole array unreadable when a key is not a literal", () => {
    const value = parsePhpReturnValue("<?php return ['x' => [SOME_KEY => 1, 'y' => 2]];");
    assert.ok(value instanceof Map);
    assert.ok(value.get("x") instanceof PhpUnreadable);
  });

  it("reports a truncated file with the position of the end", () => {
    const error = fatal("<?php\nreturn array(\n  'a' => array('b' => 1,\n");
    assert.match(error.message, /^unexpected end of file at line 4:1: expected .*truncated/);
  });

  it("reports an unterminated string where it starts, without its contents", () => {
    const error = fatal("<?php\nreturn ['password' => 'Sup3rSecret\n];");
    assert.equal(error.message, "unterminated single-quoted string starting at line 2:23");
  });

  it("reports an unterminated comment", () => {
    assert.match(
      fatal("<?php /* never closed\nreturn [];").message,
      /unterminated \/\* comment starting at line 1:7/,
    );
  });

  it("reports mismatched brackets", () => {
    assert.match(fatal("<?php return ['a' => 1);").message, /unexpected "\)" at line 1:23/);
  });

  it("rejects a file without <?php", () => {
    assert.match(fatal("return [];").message, /no "<\?php" opening tag/);
  });

  it("rejects a file with no top-level return", () => {
    assert.match(fatal("<?php $a = 1;").message, /no top-level "return" statement/);
  });

  it("rejects nesting deeper than 64 levels without overflowing the stack", () => {
    const depth = 100_000;
    const error = fatal(`<?php return ${"[".repeat(depth)}${"]".repeat(depth)};`);
    assert.match(error.message, /nested deeper than 64 levels at line 1:/);
  });

  it("rejects sources over 1 MiB before tokenizing them", () => {
    const error = fatal(`<?php return '${"x".repeat(1024 * 1024)}';`);
    assert.match(error.message, /larger than 1048576 characters/);
  });

  // A quadratic step-over would take minutes here and hit the timeout; timings are not asserted.
  it("reads a file full of 40,000 unsupported expressions", { timeout: 60_000 }, () => {
    const entries = Array.from({ length: 40_000 }, (_, i) => `'k${i}' => f(${i})`).join(",\n");
    const value = parsePhpReturnValue(`<?php return [${entries}];`);
    assert.ok(value instanceof Map);
    assert.equal(value.size, 40_000);
    assert.ok(value.get("k39999") instanceof PhpUnreadable);
  });
});

describe("parsePhpAssignments", () => {
  it("reads top-level literal assignments and steps over everything else", () => {
    const source = `<?php
define("BX_UTF", true);
$DBType = "mysql";
$DBHost = 'localhost';
for ($i = 0; $i < 3; $i++) { $loop = $i; }
foreach ($list as $item) $DBLogin = 'conditional';
@umask(~0775);
$DBHost = "db.local"; // the last assignment wins, as when PHP runs the file
?>
<p>inline html with $DBName = 'x';</p>
<?php $DBName = 'shop';`;
    const vars = parsePhpAssignments(source);
    assert.equal(vars.get("DBType"), "mysql");
    assert.equal(vars.get("DBHost"), "db.local");
    assert.equal(vars.get("DBName"), "shop");
    assert.equal(vars.has("BX_UTF"), false);
    assert.equal(vars.has("DBLogin"), false, "a braceless loop body is not top-level");
    assert.ok(vars.get("loop") instanceof PhpUnreadable, "assignment inside a block is not guessed");
  });

  it("marks a non-literal assignment as unreadable with its position", () => {
    const vars = parsePhpAssignments("<?php\n$DBPassword = getenv('DB_PASSWORD');\n$DBLogin = 'a' . 'b';");
    const password = vars.get("DBPassword");
    assert.ok(password instanceof PhpUnreadable);
    assert.match(password.error.message, /unsupported expression "getenv\(" at line 2:15/);
    const login = vars.get("DBLogin");
    assert.ok(login instanceof PhpUnreadable);
    assert.match(login.error.message, /unsupported expression "\." at line 3:16/);
  });

  it("marks conditional and compound assignments as unreadable", () => {
    const vars = parsePhpAssignments(
      "<?php\nif ($x) {\n  $DBHost = 'a';\n}\n$DBName = 'n';\n$DBName .= '2';",
    );
    assert.match(plain(vars.get("DBHost")) as string, /inside a block at line 3:3/);
    assert.match(plain(vars.get("DBName")) as string, /compound assignment "\.=" at line 6:9/);
  });
});
