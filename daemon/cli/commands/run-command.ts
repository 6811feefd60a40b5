import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { runDaemon } from "../../run/run-daemon.js";

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
  SIGHUP           reopen the log file (logrotate)

Example:
  cvety-sidecar run --config /etc/cvety-sidecar/config.toml`,
    )
    .action(async (opts: { config?: string }) => {
      const config = await loadConfig({ path: opts.config });
      const daemon = await runDaemon(config);
      await new Promise<void>((resolve) => {
        let signalled = false;
        const onStop = (signal: NodeJS.Signals) => {
          if (signalled) {
            daemon.logHandle.log.warn({ signal }, "second signal, exiting at once");
            daemon.logHandle.flush();
            process.exit(1);
          }
          signalled = true;
          daemon.logHandle.log.info({ signal }, "signal received, stopping");
          daemon.stop().then(resolve, (err) => {
            daemon.logHandle.log.error({ err }, "error while stopping");
            resolve();
          });
        };
        process.on("SIGTERM", onStop);
        process.on("SIGINT", onStop);
        process.on("SIGHUP", () => daemon.reopenLog());
        // Said only once the handlers are in place: Node sets up its first signal handler lazily,
        // and a SIGTERM that came in between would kill the daemon without a graceful stop.
        process.stderr.write(
          `cvety-sidecar running (pid ${process.pid}); log: ${config.log.file}; state: ${config.state.dir}` +
            (daemon.httpAddress ? `; http://${daemon.httpAddress}/healthz` : "") +
            "\n",
        );
      });
    });
}
