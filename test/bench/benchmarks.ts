import { backlogDrain } from "./backlog-drain.js";
import { FORWARD_BENCHMARKS } from "./forward-bench.js";
import { HOUSEKEEPING_BENCHMARKS } from "./housekeeping-bench.js";
import { WRITEBACK_BENCHMARKS } from "./writeback-bench.js";

/** The benchmarks `npm run bench` knows, in the order they run. */
export interface Benchmark {
  name: string;
  description: string;
  /** Runs the measurement; returns report lines ("p50 latency: 120 ms"). */
  run: (progress: (line: string) => void) => Promise<string[]>;
}

export const BENCHMARKS: Benchmark[] = [
  ...FORWARD_BENCHMARKS,
  backlogDrain,
  ...WRITEBACK_BENCHMARKS,
  ...HOUSEKEEPING_BENCHMARKS,
];
