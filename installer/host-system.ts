import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { CommandFailedError } from "./install-errors.js";

/**
 * The installer's view of the host: where system paths really are, who the
 * users are, and how to run the commands that need a real system (useradd,
 * chown, systemctl). Under `--root DIR` (staged) every path lies below DIR and
 * those commands are printed instead of run: that is how the tests drive a
 * whole install without touching the machine. Commands always go through
 * execFile with an argument array, never a shell.
 */
export interface HostSystem {
  /** True under --root: system commands are printed, not run; users are not looked up. */
  readonly staged: boolean;
  /** Where this run reads and writes the system path `path` (below --root DIR when staged). */
  path(path: string): string;
  /** uid of a user, or undefined when it does not exist (always undefined when staged). */
  userId(name: string): Promise<number | undefined>;
  /** gid of a group, or undefined when it does not exist (always undefined when staged). */
  groupId(name: string): Promise<number | undefined>;
  /** Runs a command that changes the system; throws CommandFailedError when it fails. */
  run(argv: readonly string[]): Promise<CommandOutput>;
  /** Runs a command that only looks; a non-zero exit is an answer, not an error. */
  query(argv: readonly string[]): Promise<CommandResult>;
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

export interface CommandResult extends CommandOutput {
  /** Exit status; 127 when the command does not exist. */
  status: number;
}

const COMMAND_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Runs argv[0] with the rest as arguments; resolves with the exit status instead of rejecting. */
export function execCommand(
  argv: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("execCommand: empty argv");
  return new Promise((resolvePromise) => {
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? COMMAND_TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: "utf8",
        env: opts.env ?? process.env,
      },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise({ status: 0, stdout, stderr });
        // execFile puts the exit status in `code` (a number), or an errno string when it could not run.
        const code = (err as { code?: unknown }).code;
        const notFound = code === "ENOENT";
        const status = notFound ? 127 : typeof code === "number" ? code : err.killed ? 124 : 1;
        const why = notFound ? `${file}: command not found` : err.killed ? `${file}: timed out` : err.message;
        resolvePromise({ status, stdout, stderr: stderr || why });
      },
    );
  });
}

/** getent answers `name:x:uid:gid:...` for passwd and `name:x:gid:members` for group. */
function idFromGetent(line: string): number | undefined {
  const id = Number(line.split(":")[2]);
  return Number.isInteger(id) ? id : undefined;
}

export function realHostSystem(): HostSystem {
  const query = (argv: readonly string[]) => execCommand(argv);
  return {
    staged: false,
    path: (path) => path,
    query,
    async run(argv) {
      const result = await query(argv);
      if (result.status !== 0) throw new CommandFailedError(argv, result.status, result.stderr);
      return { stdout: result.stdout, stderr: result.stderr };
    },
    async userId(name) {
      const r = await query(["getent", "passwd", name]);
      return r.status === 0 ? idFromGetent(r.stdout) : undefined;
    },
    async groupId(name) {
      const r = await query(["getent", "group", name]);
      return r.status === 0 ? idFromGetent(r.stdout) : undefined;
    },
  };
}

/** `--root DIR`: paths below DIR; system commands are printed by the step runner, never run. */
export function stagedHostSystem(root: string): HostSystem {
  const base = resolve(root);
  const refuse = (argv: readonly string[]): never => {
    throw new Error(`staged install must not run ${argv.join(" ")}`);
  };
  return {
    staged: true,
    path: (path) => join(base, path),
    userId: async () => undefined,
    groupId: async () => undefined,
    run: async (argv) => refuse(argv),
    query: async (argv) => refuse(argv),
  };
}
