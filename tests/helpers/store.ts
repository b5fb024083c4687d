/** Temp data dirs and writer set-up for storage tests. */
import { afterEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { WRITER_DEFAULTS, type WriterSettings } from "../../src/config.ts";
import { SnapshotWriter, type WriterOptions } from "../../src/storage/writer.ts";

export function tempDir(prefix = "surv-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export async function openWriter(
  dataDir: string,
  settings: Partial<WriterSettings> = {},
  extra: Partial<WriterOptions> & { clock?: SimClock } = {},
): Promise<{ w: SnapshotWriter; clock: SimClock }> {
  const clock = extra.clock ?? new SimClock(T0);
  const w = await SnapshotWriter.open({
    dataDir,
    settings: { ...WRITER_DEFAULTS, ...settings },
    topK: 50,
    clock,
    ...extra,
  });
  return { w, clock };
}

/** Relative paths of every file under dir matching the glob. */
export function globFiles(dir: string, pattern: string): string[] {
  return [...new Bun.Glob(pattern).scanSync({ cwd: dir, onlyFiles: true, dot: true })].sort();
}

/**
 * Awaits `p` while firing the SimClock's timers one at a time, each only once nothing else is pending: for code
 * (close()) that does real I/O between its sleeps on the clock, where advancing at once would outrun it.
 */
export async function settleOnClock(clock: SimClock, p: Promise<unknown>): Promise<void> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    const next = clock.nextAt();
    if (next !== undefined) await clock.runUntil(next);
    else await Bun.sleep(1); // yields to the I/O in flight; correctness does not depend on its length
  }
  await p;
}

/** `dir()` gives a fresh temp dir; every one is removed after each test of the file that calls this. */
export function tempDirs(prefix: string): () => string {
  let cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups) c();
    cleanups = [];
  });
  return () => {
    const t = tempDir(prefix);
    cleanups.push(t.cleanup);
    return t.dir;
  };
}
