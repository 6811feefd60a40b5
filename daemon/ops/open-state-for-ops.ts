import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SidecarError } from "../errors.js";
import { MIGRATIONS } from "../outbox/migrations.js";
import { STATE_DB_FILE, type StateDb } from "../outbox/open-state-db.js";

/** How long a CLI statement waits for the daemon's write lock before it gives up. */
const CLI_BUSY_TIMEOUT_MS = 5_000;

/** `<state.dir>/outbox.db` does not exist: the daemon has never run with this config. Exit 1. */
export class NoStateError extends SidecarError {
  constructor(readonly file: string) {
    super(
      "E_NO_STATE",
      `no state yet: ${file} does not exist ([state] dir); the daemon creates it on its first start`,
    );
    this.name = "NoStateError";
  }
}

export function stateDbPath(stateDir: string): string {
  return join(stateDir, STATE_DB_FILE);
}

/**
 * Opens the daemon's state database for a CLI command, beside a running
 * daemon: never creates it, never migrates it (the daemon owns its schema),
 * WAL readers never block the daemon's writer, and a write waits for the
 * daemon's lock (busy timeout) instead of failing. `write: false` opens it
 * read-only.
 */
export function openStateForOps(stateDir: string, opts: { write: boolean }): StateDb {
  const file = stateDbPath(stateDir);
  if (!existsSync(file)) throw new NoStateError(file);
  let db: StateDb;
  try {
    db = new Database(file, { readonly: !opts.write, fileMustExist: true });
    db.pragma(`busy_timeout = ${CLI_BUSY_TIMEOUT_MS}`);
    // A CLI write (retry, drop) is rare and must survive a power cut like a capture does.
    if (opts.write) db.pragma("synchronous = FULL");
  } catch (err) {
    throw new SidecarError("E_STATE_OPEN", `cannot open state database ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    checkSchema(db, file, opts.write);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function checkSchema(db: StateDb, file: string, write: boolean): void {
  let version: number;
  try {
    const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null };
    version = row.v ?? 0;
  } catch (err) {
    throw new SidecarError(
      "E_STATE_SCHEMA",
      `${file} is not a cvety-sidecar state database (${(err as Error).message})`,
      { cause: err },
    );
  }
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  if (version === 0) {
    throw new SidecarError("E_NO_STATE", `no state yet: ${file} has no tables; start the daemon once`);
  }
  if (write && version > known) {
    throw new SidecarError(
      "E_STATE_NEWER",
      `state database schema version ${version} is newer than this cvety-sidecar knows (${known}); use the cvety-sidecar the daemon runs`,
    );
  }
}
