import cliProgress from "cli-progress";

export interface ResyncProgress {
  update(p: { done: number; total: number; enqueued: number }): void;
  stop(): void;
}

/**
 * Progress for ranges larger than one batch: a bar on a terminal, a plain
 * line per batch otherwise (a log or a CI job). Always on stderr, so stdout
 * stays the summary (or the --json document).
 */
export function createResyncProgress(opts: {
  stream: NodeJS.WriteStream;
  batchSize: number;
  dryRun: boolean;
}): ResyncProgress {
  let bar: cliProgress.SingleBar | undefined;
  let large = false;
  return {
    update({ done, total, enqueued }) {
      if (!large && total <= opts.batchSize) return;
      large = true;
      if (opts.stream.isTTY) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              stream: opts.stream,
              format: `resync [{bar}] {value}/{total} orders read${opts.dryRun ? "" : " | {enqueued} queued"} | ETA {eta_formatted}`,
              hideCursor: true,
              clearOnComplete: true,
              etaBuffer: 20,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, done, { enqueued });
        } else {
          bar.setTotal(total);
          bar.update(done, { enqueued });
        }
      } else if (done > 0) {
        opts.stream.write(
          `resync: ${done}/${total} orders read${opts.dryRun ? "" : `, ${enqueued} queued`}\n`,
        );
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
