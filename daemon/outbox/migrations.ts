/**
 * Numbered, forward-only migrations of the state database. Each runs in its
 * own transaction and is recorded in schema_migrations; a released migration
 * is never edited, only followed by a new one. Times are unix milliseconds
 * (ops: `datetime(created_at/1000, 'unixepoch')`).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "outbox, attempts, per-order capture and delivery keys, cursors",
    sql: `
      -- One row per snapshot to deliver. At most one 'pending' row per order:
      -- a newer snapshot replaces the pending one (coalescing).
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        date_update TEXT NOT NULL,          -- Bitrix wall clock 'YYYY-MM-DD HH:MM:SS'
        event TEXT NOT NULL,                -- order.create | order.update
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
        reason TEXT NOT NULL DEFAULT 'capture', -- capture | resync | sweep | conflict
        payload TEXT NOT NULL,              -- JSON of the CRM's "data" minus webhook_timestamp/source
        snapshot_hash TEXT NOT NULL,        -- sha256 hex of payload
        idempotency_key TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        first_error_at INTEGER,             -- first 200 "status: error" answer (dead-letter age)
        last_error TEXT,
        last_http_status INTEGER,
        last_response TEXT,                 -- the CRM's answer, kept for dead letters
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE UNIQUE INDEX outbox_one_pending_per_order ON outbox (order_id) WHERE state = 'pending';
      CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
      CREATE INDEX outbox_order ON outbox (order_id, id);
      CREATE INDEX outbox_state_created ON outbox (state, created_at);

      -- Every delivery attempt, for 'outbox show' and 'status'.
      CREATE TABLE delivery_attempts (
        id INTEGER PRIMARY KEY,
        outbox_id INTEGER NOT NULL,
        order_id INTEGER NOT NULL,
        attempted_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        http_status INTEGER,
        outcome TEXT NOT NULL,              -- delivered | retry | crm_error | rejected | endpoint
        error TEXT
      );
      CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id);
      CREATE INDEX delivery_attempts_time ON delivery_attempts (attempted_at);

      -- Last snapshot captured per order: the (ID, VERSION, DATE_UPDATE) dedupe key.
      CREATE TABLE captured_orders (
        order_id INTEGER PRIMARY KEY,
        version INTEGER NOT NULL,
        date_update TEXT NOT NULL,
        snapshot_hash TEXT NOT NULL,
        captured_at INTEGER NOT NULL
      );

      -- Last snapshot delivered per order; survives pruning of delivered outbox rows.
      CREATE TABLE delivered_orders (
        order_id INTEGER PRIMARY KEY,
        version INTEGER NOT NULL,
        date_update TEXT NOT NULL,
        snapshot_hash TEXT NOT NULL,
        delivered_at INTEGER NOT NULL
      );

      -- Named cursors (capture, write-back): JSON values.
      CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      -- Small runtime facts for 'status' (delivery pause and its reason, ...).
      CREATE TABLE runtime_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "write-back: outcome of every CRM status change, the rows write-back wrote (no echo)",
    sql: `
      -- One row per CRM change settled by write-back (the cursor lives in 'cursors').
      -- outcome: applied | unchanged | conflict | rejected | refused | would_apply (dry run).
      CREATE TABLE writeback_changes (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,               -- supabase | feed
        change_key TEXT NOT NULL,           -- feed: change id; supabase: <orders.id>@<updated_at>; else sha256 of the row
        dry_run INTEGER NOT NULL DEFAULT 0, -- 1: seen by a dry run, nothing was written
        order_id INTEGER,                   -- NULL when the row had no usable order id
        crm_status TEXT,
        status_id TEXT,                     -- the Bitrix STATUS_ID it maps to
        old_status_id TEXT,                 -- Bitrix's status before (applied), or Bitrix's status (conflict)
        outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'conflict', 'rejected', 'refused', 'would_apply')),
        reason TEXT,                        -- why rejected / refused / conflict
        changed_at TEXT,                    -- the CRM's change time as the source gave it
        version INTEGER,                    -- applied: b_sale_order.VERSION written
        date_update TEXT,                   -- applied: b_sale_order.DATE_UPDATE written (Bitrix wall clock)
        raw TEXT NOT NULL,                  -- the row as received, JSON, cut at 4 KB
        recorded_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX writeback_changes_key ON writeback_changes (source, dry_run, change_key);
      CREATE INDEX writeback_changes_order ON writeback_changes (order_id, id);
      CREATE INDEX writeback_changes_outcome ON writeback_changes (dry_run, outcome);
      CREATE INDEX writeback_changes_recorded ON writeback_changes (recorded_at);

      -- The (ID, VERSION, DATE_UPDATE) each write-back produced, recorded before the MySQL
      -- COMMIT: capture does not forward these to the CRM (they came from it), and a later
      -- CRM change of the order is compared with the CRM time of the one that wrote it.
      CREATE TABLE writeback_writes (
        order_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        date_update TEXT NOT NULL,
        crm_changed_at_us INTEGER NOT NULL, -- the applied change's CRM time, microseconds since 1970
        written_at INTEGER NOT NULL,
        PRIMARY KEY (order_id, version, date_update)
      );
      CREATE INDEX writeback_writes_time ON writeback_writes (written_at);
    `,
  },
];
