/**
 * `cvety-sidecar demo`: the whole data flow on this machine for about a minute.
 * Sets up (demo-environment.ts), lets customers, a Bitrix manager and a CRM
 * manager act on a schedule (demo-activity.ts) while showing what the daemon
 * does (demo-screen.ts), then proves both directions from the data
 * (demo-report.ts) and cleans up, also on Ctrl-C. Returns the exit code:
 * 0 when both directions were seen, 1 otherwise.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ReceivedRequest } from "../../test/support/crm-server.js";
import { DemoActivity, statusLabel } from "./demo-activity.js";
import { type DemoEnvironment, prepareDemo } from "./demo-environment.js";
import { customerNameOf } from "./demo-orders.js";
import { demoVerdict, formatProof, formatWhereToLook, gatherProof } from "./demo-report.js";
import { type DemoCounters, DemoScreen } from "./demo-screen.js";
import { DemoStateReader, type WritebackOutcomeRow } from "./demo-state-reader.js";

export interface DemoOptions {
  durationS: number;
  keep: boolean;
  quiet: boolean;
  out: NodeJS.WriteStream;
}

const TICK_MS = 250;
const LIVE_REDRAW_MS = 1000;
const INITIAL_ORDERS = 3;
const NEW_ORDER_EVERY_MS = 5000;
const BITRIX_STATUS_EVERY_MS = 7000;
/** The CRM manager acts every ~8 s, more often in a short demo so the whole flow fits. */
const CRM_MOVE_MAX_EVERY_MS = 8000;
const CRM_MOVE_MIN_EVERY_MS = 3000;
/** After the minute: how long to wait for the last deliveries and write-backs to settle. */
const SETTLE_MAX_MS = 15_000;

const INTRO = [
  "cvety-sidecar demo: a throwaway Bitrix shop, a CRM stand-in and the real daemon on this machine.",
  "  Bitrix → CRM: customers place orders and a Bitrix manager changes a status; the daemon polls",
  "    b_sale_order, stores each snapshot in its SQLite outbox and delivers it to the CRM over HTTPS.",
  "  CRM → Bitrix: a CRM manager moves orders along (confirmed, assembled, in_transit, completed);",
  "    the daemon reads the CRM's status feed and writes each change into Bitrix the way Bitrix does:",
  "    b_sale_order.STATUS_ID plus a b_sale_order_change history row, without echoing it back.",
  "  At the end it shows one order of each direction from the data, then removes everything.",
];

const MARIADB_HINT = [
  "The demo needs a MariaDB (or MySQL) it may create a database in, one of:",
  "  root with an empty password on 127.0.0.1:3306 (a fresh local install),",
  "  CVETY_TEST_MYSQL_URL=mysql://user:password@host:port (a user that may CREATE and DROP DATABASE),",
  "  mariadbd installed (e.g. apt install mariadb-server): a private one then runs in a temp folder.",
];

function describeCrmRequest(request: ReceivedRequest): string {
  const data = (request.body as { data?: Record<string, unknown> } | undefined)?.data;
  const status = request.status === 0 ? "no answer" : String(request.status);
  return (
    `CRM      ← ${request.event ?? "?"} #${request.orderId ?? "?"} v${String(data?.["VERSION"] ?? "?")} ` +
    `${statusLabel(data?.["STATUS_ID"] as string | undefined)}, ${customerNameOf(data)} → ${status}`
  );
}

function describeOutcome(row: WritebackOutcomeRow): string {
  switch (row.outcome) {
    case "applied":
      return (
        `Bitrix   ← #${row.orderId} "${row.crmStatus}" applied: STATUS_ID ${row.oldStatusId} → ` +
        `${statusLabel(row.statusId)}, VERSION ${row.version}, history row added`
      );
    case "unchanged":
      return `Bitrix   ← #${row.orderId} "${row.crmStatus}": already ${row.statusId}, nothing written`;
    case "conflict":
      return `Bitrix   ← #${row.orderId} "${row.crmStatus}": conflict, Bitrix changed it later (${row.oldStatusId} stays; the CRM is told)`;
    default:
      return `Bitrix   ← #${row.orderId ?? "?"} "${row.crmStatus ?? "?"}" ${row.outcome}: ${row.reason ?? ""}`;
  }
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const mode = opts.quiet ? "quiet" : opts.out.isTTY ? "live" : "plain";
  const screen = new DemoScreen(opts.out, mode);
  const durationMs = opts.durationS * 1000;
  const crmMoveEveryMs = Math.min(CRM_MOVE_MAX_EVERY_MS, Math.max(CRM_MOVE_MIN_EVERY_MS, durationMs / 5));
  for (const line of INTRO) screen.say(line);
  screen.say("");

  const stop = new AbortController();
  let env: DemoEnvironment | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      // A second Ctrl-C: no waiting. A private mariadbd is killed by its own exit hook.
      screen.say(`${signal} again: stopping at once; the demo database and temp folder may be left behind`);
      env?.sidecar.child.kill("SIGKILL");
      process.exit(130);
    }
    screen.say(`${signal}: stopping the demo and cleaning up (again to stop at once)`);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const setup = prepareDemo({
    say: (line) => screen.say(line),
    onCrmAnswer: (request) => screen.event(describeCrmRequest(request)),
  });
  let reader: DemoStateReader | undefined;
  let exitCode = 1;
  let cleaned: string[] = [];
  try {
    env = await setup.start();
    if (stop.signal.aborted) throw new Error("interrupted");
    const { db, crm, feed, sidecar } = env;
    reader = new DemoStateReader(env.stateDir);
    const activity = new DemoActivity({ db, crm, feed, event: (text) => screen.event(text) });
    const outcomes: WritebackOutcomeRow[] = [];
    const counters = (elapsedMs: number): DemoCounters => {
      const wb = { applied: 0, unchanged: 0, conflict: 0, rejected: 0, refused: 0 };
      for (const o of outcomes) if (o.outcome in wb) wb[o.outcome as keyof typeof wb]++;
      return {
        elapsedS: Math.round(elapsedMs / 1000),
        durationS: opts.durationS,
        ordersWritten: activity.orderIds.length,
        bitrixStatusChanges: activity.bitrixStatusChanges,
        crmReceived: crm.stats.accepted,
        crmOrders: crm.stats.orders,
        outbox: reader!.outbox(),
        crmStatusChanges: activity.crmStatusChanges,
        writeback: wb,
      };
    };
    const readOutcomes = () => {
      for (const row of reader!.writebackOutcomes(outcomes.at(-1)?.id ?? 0)) {
        outcomes.push(row);
        screen.event(describeOutcome(row));
      }
    };
    const checkDaemon = () => {
      if (sidecar.child.exitCode !== null || sidecar.child.signalCode !== null) {
        throw new Error(
          `the daemon exited (${sidecar.child.exitCode ?? sidecar.child.signalCode}): ${sidecar.stderr.trim()}`,
        );
      }
    };

    screen.say("");
    for (let i = 0; i < INITIAL_ORDERS; i++) await activity.newOrder();

    const startedAt = Date.now();
    let nextOrderAt = NEW_ORDER_EVERY_MS;
    let nextBitrixStatusAt = BITRIX_STATUS_EVERY_MS / 2;
    let nextCrmMoveAt = CRM_MOVE_MIN_EVERY_MS;
    let nextDrawAt = 0;
    for (;;) {
      const elapsed = Date.now() - startedAt;
      if (elapsed >= durationMs || stop.signal.aborted) break;
      checkDaemon();
      if (elapsed >= nextOrderAt) {
        await activity.newOrder();
        nextOrderAt += NEW_ORDER_EVERY_MS;
      }
      if (elapsed >= nextBitrixStatusAt) {
        await activity.paidInBitrix();
        nextBitrixStatusAt += BITRIX_STATUS_EVERY_MS;
      }
      // Nothing in the CRM yet: try again next tick.
      if (elapsed >= nextCrmMoveAt && activity.moveInCrm()) nextCrmMoveAt = elapsed + crmMoveEveryMs;
      readOutcomes();
      if (elapsed >= nextDrawAt) {
        screen.update(counters(elapsed));
        nextDrawAt = elapsed + (mode === "live" ? LIVE_REDRAW_MS : TICK_MS);
      }
      await sleep(TICK_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }

    // Let the last snapshots reach the CRM and the last CRM changes reach Bitrix.
    const settleUntil = Date.now() + (stop.signal.aborted ? 0 : SETTLE_MAX_MS);
    while (Date.now() < settleUntil) {
      checkDaemon();
      readOutcomes();
      if (reader.outbox().pending === 0 && outcomes.length >= feed.changes.length) break;
      await sleep(TICK_MS);
    }
    readOutcomes();
    screen.update(counters(Date.now() - startedAt), true);
    screen.freeze();
    // Closed first, so the daemon is the state database's last connection and folds its WAL in on exit.
    reader.close();
    reader = undefined;

    const stopped = await sidecar.stop();
    screen.say("");
    screen.say(`Daemon stopped (exit ${stopped.code ?? stopped.signal}).`);
    const proof = await gatherProof({ db, crm, outcomes });
    for (const line of formatProof(proof)) screen.say(line);
    const verdict = demoVerdict(proof);
    screen.say("");
    for (const line of formatWhereToLook(env, opts.keep)) screen.say(line);
    screen.say("");
    if (verdict.ok) screen.say("Both directions seen: Bitrix → CRM and CRM → Bitrix.");
    else for (const line of verdict.missing) screen.say(`Missing: ${line}`);
    exitCode = verdict.ok ? 0 : 1;
  } catch (err) {
    screen.freeze();
    if (stop.signal.aborted && setup.step !== "running") {
      // Ctrl-C reaches the whole process group: a tool setup was running (mariadb-install-db) fails too.
      screen.say(`stopped while ${setup.step}`);
    } else {
      screen.say(`demo failed while ${setup.step}: ${(err as Error).message}`);
      if (setup.step === "finding or starting MariaDB") for (const line of MARIADB_HINT) screen.say(line);
    }
    exitCode = 1;
  } finally {
    reader?.close();
    cleaned = await setup.cleanup({ keep: opts.keep });
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  if (cleaned.length > 0) screen.say(`Cleaned up: ${cleaned.join(", ")}.`);
  return exitCode;
}
