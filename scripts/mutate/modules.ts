/**
 * Which sources `bun run mutate` mutates and which test files must catch it, per module. Paths move as the tree is
 * reorganised: this table is the one place to update (a missing path is reported, not guessed).
 */
export interface MutateModule {
  /** Source files whose mutants are tried. */
  src: string[];
  /** Test files run against each mutant (any failure kills it). */
  tests: string[];
}

export const MODULES: Record<string, MutateModule> = {
  backoff: {
    src: ["src/venue/backoff.ts"],
    tests: [
      "tests/reliability/backoff.test.ts",
      "tests/reliability/backoff-rate.test.ts",
      "tests/venues/socket.test.ts",
    ],
  },
  socket: {
    src: ["src/venue/_socket.ts"],
    tests: [
      "tests/venues/socket.test.ts",
      "tests/venues/socket-events.test.ts",
      "tests/venues/kalshi-reconnect.test.ts",
      "tests/venues/kalshi-adapter.test.ts",
      "tests/venues/polymarket-adapter.test.ts",
    ],
  },
  book: {
    src: ["src/collector/book.ts"],
    tests: ["tests/collector/book.test.ts", "tests/collector/collector.test.ts", "tests/collector/watchdog.test.ts"],
  },
  subscriptions: {
    src: ["src/collector/subscriptions.ts"],
    tests: [
      "tests/collector/subscriptions.test.ts",
      "tests/collector/collector.test.ts",
      "tests/collector/reload.test.ts",
      "tests/venues/kalshi-refusal-faults.test.ts",
    ],
  },
  snapshotter: {
    src: ["src/collector/snapshotter.ts"],
    tests: [
      "tests/collector/snapshotter.test.ts",
      "tests/collector/snapshotter-edges.test.ts",
      "tests/collector/collector.test.ts",
      "tests/collector/e2e.test.ts",
    ],
  },
  scheduler: {
    src: ["src/scheduler/scheduler.ts"],
    tests: ["tests/scheduler", "tests/analytics/feedback.test.ts"],
  },
  inputs: {
    src: ["src/collector/inputs.ts"],
    tests: ["tests/collector/inputs.test.ts", "tests/collector/start-inputs.test.ts", "tests/collector/reload.test.ts"],
  },
  writer: {
    src: ["src/storage/writer.ts", "src/storage/staging.ts", "src/storage/compact.ts"],
    tests: [
      "tests/storage/writer.test.ts",
      "tests/storage/writer-edges.test.ts",
      "tests/storage/quarantine.test.ts",
      "tests/storage/staging.test.ts",
      "tests/storage/encoded-staging.test.ts",
      "tests/storage/recovery.test.ts",
      "tests/storage/faults.test.ts",
      "tests/storage/crash.test.ts",
      "tests/reliability/writer-crash.test.ts",
    ],
  },
  kalshi: {
    src: ["src/venue/kalshi/auth.ts", "src/venue/kalshi/feed.ts", "src/venue/kalshi/refusals.ts"],
    tests: [
      "tests/venues/kalshi-auth.test.ts",
      "tests/venues/kalshi-adapter.test.ts",
      "tests/venues/kalshi-reconnect.test.ts",
      "tests/venues/kalshi-refusals.test.ts",
      "tests/venues/kalshi-refusal-faults.test.ts",
      "tests/venues/kalshi-late-reply.test.ts",
      "tests/venues/kalshi-refusal-search.test.ts",
      "tests/venues/kalshi-feed-faults.test.ts",
    ],
  },
  coverage: {
    src: ["src/ops/coverage.ts"],
    tests: ["tests/ops/coverage.test.ts", "tests/ops/coverage-sim.test.ts"],
  },
  polymarket: {
    src: ["src/venue/polymarket/feed.ts"],
    tests: ["tests/venues/polymarket-adapter.test.ts", "tests/venues/polymarket-collect.test.ts"],
  },
};
