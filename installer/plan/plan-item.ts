import type { HostSystem } from "../host-system.js";
import { shellWord } from "../shell-quote.js";

/**
 * The installer is an ordered list of small steps (homebridge hb-service's
 * shape). Each step first looks at the host and says what it would do, as
 * plan items; the step runner then prints and applies them one by one. A
 * step that finds everything in place plans only `unchanged` items, which is
 * what makes a second run change nothing.
 */

/** What a change touched, so later steps can react (a new unit needs daemon-reload, new code a restart). */
export type ChangeTag = "mysql-user" | "user" | "dirs" | "config" | "secrets" | "code" | "unit" | "logrotate";

export type PlanItem = ChangeItem | UnchangedItem | SystemItem | NoteItem;

export interface ChangeItem {
  kind: "change";
  /** Printed after ✔ once done: "wrote /etc/cvety-sidecar/config.toml (0640 root:cvety-sidecar)". */
  done: string;
  /** Printed by --dry-run after "would": "write /etc/cvety-sidecar/config.toml (0640 root:cvety-sidecar)". */
  planned: string;
  tags?: readonly ChangeTag[];
  apply(): Promise<void>;
}

export interface UnchangedItem {
  kind: "unchanged";
  /** Printed after "·": "unchanged /etc/cvety-sidecar/config.toml", "absent /opt/cvety-sidecar". */
  what: string;
}

/** Needs a real system (useradd, chown, systemctl, waiting for /healthz): printed, not run, under --root. */
export interface SystemItem {
  kind: "system";
  /** The command line as a user would type it, or what is done ("wait for http://…/healthz"). */
  describe: string;
  /** A command line (printed with `$` under --root), or an action such as a wait. */
  command: boolean;
  tags?: readonly ChangeTag[];
  run(): Promise<void>;
}

/** Information or a warning for the person installing; changes nothing. */
export interface NoteItem {
  kind: "note";
  text: string;
  warning?: boolean;
}

export interface StepContext {
  system: HostSystem;
  dryRun: boolean;
  /** Tags of what earlier steps changed in this run (in a dry run: would change). */
  changed: ReadonlySet<ChangeTag>;
}

export interface Step {
  /** Names the step in a failure: "✖ systemd unit: ...". */
  readonly title: string;
  plan(ctx: StepContext): Promise<PlanItem[]>;
}

/** A command item: `describe` is the argv as typed, `run` executes it through the host. */
export function commandItem(
  system: HostSystem,
  argv: readonly string[],
  tags?: readonly ChangeTag[],
): SystemItem {
  return {
    kind: "system",
    // Printed under --root and in messages: pasted into a shell, it must run as shown.
    describe: argv.map(shellWord).join(" "),
    command: true,
    ...(tags === undefined ? {} : { tags }),
    run: async () => {
      await system.run(argv);
    },
  };
}
