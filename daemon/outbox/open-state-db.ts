import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SidecarError } from "../errors.js";
import { MIGRATIONS, type Migration } from "./migrations.js";

export type StateDb = Database.Database;

export const STATE_DB_FILE = "outbox.db";

/**
 * Opens `<dir>/outbox.db`: WAL so the CLI reads while the daemon writes,
 * synchronous=FULL so a commit survives kill -9 and power loss (invariant 1),
 * a busy timeout so a CLI write waits for the daemon instead of failing.
 * `synchronous: "NORMAL"` is for bookkeeping that may lose its last commits
 * to a power cut (never to kill -9) and is rebuilt by re-reading: in WAL
 * mode such a commit does not wait for fsync, and the file stays consistent.
 */
export function openStateDb(
  dir: string,
  opts: { readonly?: boolean; migrate?: boolean; synchronous?: "FULL" | "NORMAL" } = {},
): StateDb {
  const file = join(dir, STATE_DB_FILE);
  let db: StateDb;
  try {
    if (!opts.readonly) mkdirSync(dir, { recursive: true, mode: 0o750 });
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new SidecarError("E_STATE_OPEN", `cannot open state database ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  db.pragma("busy_timeout = 5000");
  if (!opts.readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${opts.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`);
    db.pragma("foreign_keys = ON");
    if (opts.migrate !== false) migrate(db);
  }
  return db;
}

/** Applies the migrations not yet recorded, each in its own transaction. Returns their versions. */
export function migrate(db: StateDb, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) {
    throw new SidecarError(
      "E_STATE_NEWER",
      `state database schema version ${newest} is newer than this cvety-sidecar knows (${known}); run the newer version or roll back the state`,
    );
  }
  const done: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        Date.now(),
      );
    })();
    done.push(m.version);
  }
  return done;
}
