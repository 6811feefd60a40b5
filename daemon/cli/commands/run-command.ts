import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { checkSecretFilePermissions } from "../../config/secret-file-permissions.js";
import { type RunningDaemon, runDaemon } from "../../run/run-daemon.js";

/** `cvety-sidecar run`: the daemon in the foreground (systemd runs exactly this). */
export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("run the daemon in the foreground: capture, delivery and write-back until SIGTERM")
    .option(
      "-c, --config <path>",
      "config file (default $CVETY_SIDECAR_CONFIG or /etc/cvety-sidecar/config.toml)",
    )
    .addHelpText(
      "after",
      `
Signals:
  SIGTERM, SIGINT  stop gracefully: loops end, deliveries in flight finish (at most
                   [delivery] shutdown_grace_ms), pools close; a second signal exits at once
  SIGHUP           reopen the log file (logrotate) and re-read the config

Hot reload: a change to the config file (or to Bitrix's .settings.php when the MySQL
credentials come from it) applies without a restart: intervals, log level, status map,
CRM URL/token/CA, delivery and write-back settings, MySQL credentials. state.dir,
http.listen, log.file, mysql.pool_size and a few others are logged as "needs a
restart". An invalid file is logged with the key and ignored; the running config stays.

Example:
  cvety-sidecar run --config /etc/cvety-sidecar/config.toml`,
    )
    .action(async (opts: { config?: string }) => {
      const config = await loadConfig({ path: opts.config });
      // A secrets file others may read refuses the start (exit 78); a world-readable config with secrets warns.
      const { warnings } = await checkSecretFilePermissions({ configFile: config.file, env: process.env });
      for (const w of warnings) process.stderr.write(`cvety-sidecar: warning: ${w.message}\n`);
      // Handlers go in before the daemon starts: Node installs its first signal handler lazily, and a
      // SIGTERM in between would kill the daemon without a graceful stop.
      let daemon: RunningDaemon | undefined;
      let signalled = false;
      let stopped: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
      });
      const stop = (d: RunningDaemon) =>
        d.stop().then(stopped, (err) => {
          d.logHandle.log.error({ err }, "error while stopping");
          stopped();
        });
      const onStop = (signal: NodeJS.Signals) => {
        if (signalled) {
          daemon?.logHandle.log.warn({ signal }, "second signal, exiting at once");
          daemon?.logHandle.flush();
          process.exit(1);
        }
        signalled = true;
        if (daemon) {
          daemon.logHandle.log.info({ signal }, "signal received, stopping");
          void stop(daemon);
        }
      };
      process.on("SIGTERM", onStop);
      process.on("SIGINT", onStop);
      process.on("SIGHUP", () => {
        daemon?.reopenLog();
        void daemon?.reload("SIGHUP");
      });

      daemon = await runDaemon(config);
      const running = daemon;
      for (const w of warnings)
        running.logHandle.log.warn(
          { file: w.file, keys: w.keys, mode: w.mode },
          "config file with secrets is readable by everyone",
        );
      // A bug must not vanish with the process: one fatal line in the log, then exit 1 (systemd restarts us).
      const die = (err: unknown) => {
        running.logHandle.log.fatal({ err }, "crashed");
        running.logHandle.flush();
        process.exit(1);
      };
      process.on("uncaughtException", die);
      process.on("unhandledRejection", die);
      if (signalled) void stop(running);
      else {
        process.stderr.write(
          `cvety-sidecar running (pid ${process.pid}); log: ${config.log.file}; state: ${config.state.dir}` +
            (running.httpAddress ? `; http://${running.httpAddress}/healthz` : "") +
            "\n",
        );
      }
      await done;
    });
}
