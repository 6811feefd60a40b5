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
];
