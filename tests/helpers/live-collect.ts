/** A real-time mock `collect` process for the tests of signals and locks: its config, its spawn, the files it leaves. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import { REPO } from "./run-cli.ts";

/** Real time (clock_speed 1), rows staged every second: a process that runs until it is stopped. */
export const LIVE_MOCK_TOML = `[writer]\nflush_secs = 1\n[collector]\nmax_subs_per_venue = 6\nhot_count = 3\nsnapshot_interval_ms_hot = 200\nsnapshot_interval_ms_warm = 200\n[venues.mock]\nuniverse_size = 20\nclock_speed = 1\nupdates_per_sec = 20\n`;

/** Relative paths under `d` matching `pattern` (dot files left out). */
export const glob = (d: string, pattern: string) => [...new Bun.Glob(pattern).scanSync({ cwd: d })];

/** Rows in the final snapshot files under `d`, from their footers. */
export const finalRows = (d: string) =>
  glob(d, "orderbook_snapshots/**/*.parquet").reduce((n, f) => {
    const b = readFileSync(join(d, f));
    return n + Number(parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)).num_rows);
  }, 0);

/** `surveillance collect` on `d` with `cfg` for `duration`, both output streams piped. */
export function spawnCollect(cfg: string, d: string, duration: string) {
  return Bun.spawn(
    ["bun", join(REPO, "bin", "surveillance.ts"), "collect", "--config", cfg, "--data-dir", d, "--duration", duration],
    { cwd: REPO, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
  );
}
