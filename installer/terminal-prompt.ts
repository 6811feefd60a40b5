import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";

/**
 * Questions on a terminal, for what the installer cannot discover (the CRM
 * URL and token) and for "apply these changes?". A secret is read without
 * echo. Only used when stdin and stdout are a TTY and --yes is not given.
 */
export interface TerminalPrompt {
  prompt(question: string, opts: { secret: boolean }): Promise<string>;
  confirm(question: string): Promise<boolean>;
  close(): void;
}

export function isInteractive(yes: boolean | undefined): boolean {
  return !yes && process.stdin.isTTY === true && process.stdout.isTTY === true;
}

export function createTerminalPrompt(): TerminalPrompt {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return {
    async prompt(question, { secret }) {
      if (!secret) return rl.question(question);
      process.stdout.write(question);
      muted = true;
      try {
        return await rl.question("");
      } finally {
        muted = false;
        process.stdout.write("\n");
      }
    },
    async confirm(question) {
      const answer = await this.prompt(question, { secret: false });
      return /^y(es)?$/i.test(answer.trim());
    },
    close: () => rl.close(),
  };
}
