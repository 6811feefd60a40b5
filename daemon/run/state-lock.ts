import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SidecarError } from "../errors.js";

/**
 * One daemon per state directory: two would deliver every order twice. The
 * lock is a pid file created exclusively; a file left by a dead process
 * (kill -9, power loss) is taken over.
 */
export function acquireStateLock(stateDir: string): { release: () => void } {
  const file = join(stateDir, "daemon.pid");
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new SidecarError(
      "E_STATE_DIR",
      `cannot create the state directory ${stateDir} ([state] dir): ${(err as Error).message}`,
    );
  }
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, "wx", 0o640);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new SidecarError(
          "E_ALREADY_RUNNING",
          `another cvety-sidecar (pid ${pid}) is running on ${stateDir}; stop it first (systemctl stop cvety-sidecar)`,
        );
      }
      unlinkSync(file);
    }
  }
  throw new SidecarError("E_LOCK", `cannot take the lock ${file}`);
}

/** The daemon's pid if one holds the lock on this state dir and is alive. */
export function runningDaemonPid(stateDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(stateDir, "daemon.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
