/**
 * Quoting for the two places a command line is text: the remote command ssh
 * hands to the far side's shell, and commands printed for ops to paste.
 */

/** One single-quoted word for sh: `'` becomes `'\''`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Plain words as they are, anything else single-quoted. */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : shellQuote(arg);
}
