import { z } from "zod";
import { housekeepingConfigSchema } from "./housekeeping-config.js";

/**
 * The one TOML config file, validated at start. Keys are snake_case; every
 * default lives here. Secrets (crm.token, mysql password, writeback.token,
 * signing secrets) may come from the environment instead (see load-config.ts).
 */

/**
 * The shop's CRM status names -> Bitrix STATUS_ID, as the CRM's live
 * transformer (core/transformer.py) maps them. Config entries are merged over
 * these. Raw Bitrix codes are handled separately (accepted only when
 * b_sale_status has them with TYPE='O').
 */
export const DEFAULT_STATUS_MAP: Readonly<Record<string, string>> = Object.freeze({
  new: "N",
  unrealized: "UN",
  confirmed: "AP",
  paid: "PD",
  assembled: "CO",
  ready_delivery: "RD",
  ready_pickup: "RP",
  in_transit: "DE",
  shipped: "DF",
  completed: "F",
  refunded: "RF",
  unpaid: "CF",
  payment_error: "ER",
  problematic: "TR",
  reassemble: "RO",
  waiting_processing: "DN",
  waiting_approval: "WA",
  waiting_group_buy: "GP",
  auction: "AN",
  decide: "CA",
});

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

const positiveInt = (min: number, max: number) => z.number().int().min(min).max(max);

/** `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, a Bitrix wall-clock time (no zone). */
const WALL_CLOCK_RE = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/;

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:9465");

const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "expected an http(s) URL");

export const configSchema = z.strictObject({
  bitrix: z
    .strictObject({
      /** Site root; `<root>/bitrix/.settings.php` holds the MySQL credentials. */
      root: z.string().min(1).default("/home/bitrix/www"),
      /** IANA zone Bitrix writes DATETIME columns in (PHP's zone). Default: this host's zone. */
      timezone: z
        .string()
        .refine((tz) => isValidTimeZone(tz), "unknown IANA time zone")
        .optional(),
    })
    .prefault({}),
  mysql: z
    .strictObject({
      /** mysql://user:password@host:port/database; when absent, read from Bitrix's settings. */
      url: z
        .string()
        .refine(
          (s) => URL.canParse(s) && new URL(s).protocol === "mysql:",
          "expected mysql://user:pass@host:port/db",
        )
        .optional(),
      connect_timeout_ms: positiveInt(100, 120_000).default(10_000),
      pool_size: positiveInt(1, 32).default(4),
    })
    .prefault({}),
  crm: z.strictObject({
    /** Live path: https://<crm>/webhooks/bitrix/order */
    url: httpUrl,
    /** Shared secret; the live CRM reads it from the body. Or env CVETY_SIDECAR_CRM_TOKEN. */
    token: z.string().min(1, "must not be empty"),
    /** Standard Webhooks secrets (`whsec_<base64>`); several during a rotation. */
    signing_secrets: z
      .array(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, "expected whsec_<base64>"))
      .default([]),
    /** PEM file with the CA that signs the CRM's certificate (besides the system CAs). */
    ca_file: z.string().min(1).optional(),
    /** The CRM mirrors orders back into Bitrix unless this starts with `production_real`. */
    webhook_source: z.string().min(1).default("production_real_sidecar"),
    connect_timeout_ms: positiveInt(100, 120_000).default(5_000),
    headers_timeout_ms: positiveInt(100, 600_000).default(15_000),
    body_timeout_ms: positiveInt(100, 600_000).default(15_000),
  }),
  capture: z
    .strictObject({
      poll_interval_ms: positiveInt(20, 3_600_000).default(500),
      /** Re-scan this far behind the cursor: a save's DATE_UPDATE can become visible late. */
      lookback_s: positiveInt(0, 86_400).default(60),
      /** Orders per poll page and per snapshot batch. */
      batch_size: positiveInt(1, 5_000).default(500),
      /** `now`, or a Bitrix wall-clock date to backfill from; used only while there is no cursor yet. */
      start_from: z
        .string()
        .refine((s) => s === "now" || WALL_CLOCK_RE.test(s), 'expected "now" or "YYYY-MM-DD[ HH:MM:SS]"')
        .default("now"),
      /** A VERSION bump seen without a DATE_UPDATE move is a save in progress: wait this long for it. */
      settle_ms: positiveInt(0, 600_000).default(2_000),
    })
    .prefault({}),
  delivery: z
    .strictObject({
      concurrency: positiveInt(1, 64).default(4),
      retry_min_ms: positiveInt(10, 3_600_000).default(1_000),
      retry_max_ms: positiveInt(10, 86_400_000).default(300_000),
      /** 200 with status "error": a slower schedule, then a dead letter after dead_after_s. */
      error_retry_min_ms: positiveInt(10, 86_400_000).default(60_000),
      error_retry_max_ms: positiveInt(10, 86_400_000).default(3_600_000),
      dead_after_s: positiveInt(1, 30 * 86_400).default(86_400),
      /** While paused (401/403/404/410/TLS), probe the endpoint this often. */
      pause_probe_ms: positiveInt(10, 3_600_000).default(30_000),
      /** On SIGTERM, wait at most this long for deliveries in flight. */
      shutdown_grace_ms: positiveInt(0, 300_000).default(10_000),
    })
    .prefault({}),
  writeback: z
    .strictObject({
      enabled: z.boolean().default(false),
      source: z.enum(["supabase", "feed"]).default("supabase"),
      /** supabase: the project URL (https://x.supabase.co); feed: the feed URL. */
      url: httpUrl.optional(),
      /** supabase: the API key; feed: the bearer token. Or env CVETY_SIDECAR_WRITEBACK_TOKEN. */
      token: z.string().min(1).optional(),
      ca_file: z.string().min(1).optional(),
      poll_interval_ms: positiveInt(50, 3_600_000).default(1_000),
      batch_size: positiveInt(1, 1_000).default(100),
      /** Orders written at once (one transaction each); one order's changes always in order. */
      concurrency: positiveInt(1, 16).default(4),
      /** First start only: "now" skips what the source holds already; "beginning" applies it all. */
      start_from: z.enum(["now", "beginning"]).default("now"),
      /** supabase: re-read this far before the cursor (a row can become visible after later ones). */
      lookback_s: positiveInt(0, 3_600).default(10),
      connect_timeout_ms: positiveInt(100, 120_000).default(5_000),
      /** For the answer's headers, and again for its body. */
      request_timeout_ms: positiveInt(100, 600_000).default(15_000),
      dry_run: z.boolean().default(false),
      notify_customer: z.boolean().default(false),
      /** Written to b_sale_order.EMP_STATUS_ID; NULL when absent. */
      employee_id: positiveInt(1, 2_147_483_647).optional(),
      /** CRM status name -> Bitrix STATUS_ID, merged over DEFAULT_STATUS_MAP. */
      status_map: z
        .record(z.string().min(1), z.string().regex(/^[A-Za-z]{1,2}$/, "expected a Bitrix STATUS_ID"))
        .default({}),
    })
    .prefault({}),
  state: z.strictObject({ dir: z.string().min(1).default("/var/lib/cvety-sidecar") }).prefault({}),
  log: z
    .strictObject({
      /** JSON lines; `-` for stdout. Reopened on SIGHUP (logrotate). */
      file: z.string().min(1).default("/var/log/cvety-sidecar/sidecar.log"),
      level: z.enum(LOG_LEVELS).default("info"),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** host:port for /healthz, /readyz, /metrics, or "off". Loopback by default. */
      listen: z.union([z.literal("off"), hostPort]).default("127.0.0.1:9465"),
    })
    .prefault({}),
  housekeeping: housekeepingConfigSchema,
});

export type ConfigFile = z.infer<typeof configSchema>;

/** Where the MySQL credentials came from, for messages (never the password). */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Unix socket instead of host:port (Bitrix `host` given as a socket path). */
  socketPath?: string;
  /** `config`, `env`, or the path of the Bitrix file they were read from. */
  source: string;
}

/** The validated config plus what was resolved from the environment and Bitrix's files. */
export interface Config extends ConfigFile {
  /** Absolute path of the file this was loaded from. */
  file: string;
  mysqlTarget: MysqlTarget;
  /** DEFAULT_STATUS_MAP merged with writeback.status_map. */
  statusMap: Record<string, string>;
  /** bitrix.timezone or the host's zone. */
  timezone: string;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
