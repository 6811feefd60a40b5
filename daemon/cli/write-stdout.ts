/**
 * Writes to stdout honouring back-pressure (a slow pager or pipe must not make
 * us buffer a whole log in memory). A closed pipe (`logs | head`) ends the
 * command quietly with exit 0, as for any Unix filter.
 */
export function stdoutWriter(stream: NodeJS.WriteStream = process.stdout): (text: string) => Promise<void> {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  return (text) =>
    stream.write(text) ? Promise.resolve() : new Promise<void>((resolve) => stream.once("drain", resolve));
}

/** Colours only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColor(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  return stream.isTTY === true;
}
