import { SidecarError } from "../errors.js";

/**
 * Why a piece of PHP source could not be read as a literal, and where.
 * Messages describe tokens ("a string literal", `getenv(`), never the
 * contents of strings: the files read this way hold database passwords.
 */
export class PhpLiteralError extends SidecarError {
  /** 1-based line and column (UTF-16 code units) of the offending token. */
  readonly line: number;
  readonly column: number;
  constructor(message: string, position: LineColumn) {
    super("E_PHP_LITERAL", message);
    this.name = "PhpLiteralError";
    this.line = position.line;
    this.column = position.column;
  }
}

export interface LineColumn {
  line: number;
  column: number;
}

/**
 * Offset -> line:column in O(log n). Built once per source because a hostile
 * file can hold many unsupported expressions, each needing a position.
 */
export class LineIndex {
  private readonly lineStarts: number[] = [0];
  constructor(source: string) {
    for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) {
      this.lineStarts.push(i + 1);
    }
  }

  at(offset: number): LineColumn {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (this.lineStarts[low] ?? 0) + 1 };
  }

  /** `line 12:20`, the form every message uses. */
  describe(offset: number): string {
    const { line, column } = this.at(offset);
    return `line ${line}:${column}`;
  }

  error(offset: number, message: (where: string) => string): PhpLiteralError {
    return new PhpLiteralError(message(this.describe(offset)), this.at(offset));
  }
}
