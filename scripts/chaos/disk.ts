/**
 * Disk faults under a running collector: the data dir becomes full (ENOSPC: a small tmpfs filled with a ballast
 * file) and then read-only (EROFS: the tmpfs remounted ro), each for a while, then recovers. Where `mount` is not
 * allowed, the same errors come from an injected file layer (StorageFs). Afterwards every row produced is either
 * in exactly one final file or was dropped with a counted error (buffer cap), never lost; the log says what happened.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { nodeFs, type StorageFs } from "../../src/storage/fs.ts";
import { checkDataset } from "./dataset-check.ts";
import { buildRig } from "./rig.ts";

export interface DiskResult {
  method: "tmpfs mount (ENOSPC ballast, remount ro)" | "injected fs layer (ENOSPC, EROFS)";
  faults: { full: number; readOnly: number };
  /** Sim seconds the disk was unusable. */
  faultSecs: number;
  writeErrors: number;
  produced: number;
  dropped: number;
  durable: number;
  found: number;
  duplicates: number;
  lost: number;
  maxBufferRows: number;
  peakBuffered: number;
  peakRssMb: number;
  /** Writer log lines about failed writes and about dropping rows. */
  logWriteFailed: number;
  logDropping: number;
  logRecovered: number;
  logSample: string[];
}

function tryMount(dir: string, sizeMb: number): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMb}m`, "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Remounts ro/rw. A file open for writing makes `remount,ro` fail (EBUSY), so in-flight writes are let finish first. */
async function remount(dir: string, mode: "ro" | "rw", idle: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await idle();
    try {
      execFileSync("mount", ["-o", `remount,${mode}`, dir], { stdio: ["ignore", "ignore", "pipe"] });
      return;
    } catch (e) {
      if (attempt < 50) continue;
      const fds = execFileSync("ls", ["-l", `/proc/${process.pid}/fd`])
        .toString()
        .split("\n")
        .filter((l) => l.includes(dir));
      throw new Error(`remount ${mode} failed: ${String((e as { stderr?: unknown }).stderr)} open: ${fds.join("; ")}`);
    }
  }
}

/** Never leaves a mount behind, whatever happened (a failed run must not leave a read-only tmpfs in /tmp). */
function unmount(root: string, mounted: boolean): void {
  if (mounted) {
    try {
      execFileSync("umount", ["-l", root], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
  rmSync(root, { recursive: true, force: true });
}

/** Fills the filesystem holding `dir` until ENOSPC; returns the ballast path. */
function fill(dir: string): string {
  const p = join(dir, "ballast.bin");
  const fd = openSync(p, "w");
  const chunk = new Uint8Array(1 << 16);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
  return p;
}

export async function runDisk(o: {
  seed: number;
  phaseSecs?: number;
  maxBufferRows?: number;
  forceInjected?: boolean;
  echoLog?: boolean;
}): Promise<DiskResult> {
  const root = mkdtempSync(join(tmpdir(), "chaos-disk-"));
  const mounted = !o.forceInjected && tryMount(root, 24);
  const dataDir = join(root, "data");
  mkdirSync(dataDir);
  // The injected layer: every write-side operation fails with `fault` while it is set.
  let fault: string | null = null;
  const fail = (op: string) => {
    if (fault) throw Object.assign(new Error(`${fault}: ${op}`), { code: fault });
  };
  const injected: StorageFs = {
    ...nodeFs,
    mkdirp: async (d) => (fail("mkdir"), nodeFs.mkdirp(d)),
    create: async (p) => (fail("open"), nodeFs.create(p)),
    rename: async (a, b) => (fail("rename"), nodeFs.rename(a, b)),
    appendDurable: async (p, t) => (fail("append"), nodeFs.appendDurable(p, t)),
    rmrf: async (p) => (fail("rm"), nodeFs.rmrf(p)),
  };
  // The writer's log lines, caught on their way out (stderr once logging is set up; consola's default sends info to stdout).
  const logs: string[] = [];
  const hooks = ([process.stderr, process.stdout] as const).map((stream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      const mine = text.split("\n").filter((l) => l.includes("writer"));
      logs.push(...mine);
      return mine.length > 0 && !o.echoLog ? true : write(chunk as string, ...(rest as []));
    }) as typeof stream.write;
    return () => void (stream.write = write as typeof stream.write);
  });
  const clock = new SimClock(Date.UTC(2026, 0, 1, 0, 0, 0));
  const maxBufferRows = o.maxBufferRows ?? 1500;
  const produced = new Map<string, number>();
  const dropped = new Map<string, number>();
  let durable = 0;
  const rig = await buildRig({
    dataDir,
    clock,
    fs: mounted ? undefined : injected,
    mock: { seed: o.seed },
    writer: { max_buffer_rows: maxBufferRows, flush_secs: 1, retry_base_ms: 500, retry_cap_ms: 5000 },
    onAppend: (m, d) => {
      produced.set(m, (produced.get(m) ?? 0) + 1);
      if (d) dropped.set(m, (dropped.get(m) ?? 0) + 1);
    },
    onDurable: (_v, by) => {
      for (const n of by.values()) durable += n;
    },
  });
  const phase = (o.phaseSecs ?? 120) * 1000;
  let peakBuffered = 0;
  let peakRss = 0;
  const run = async (ms: number) => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      await clock.advance(1000);
      peakBuffered = Math.max(peakBuffered, rig.writer.status().rowsBuffered);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  };
  let faultSecs = 0;
  const idle = async () => {
    await rig.writer.flush().catch(() => {});
    await rig.vc.flushJournal();
    await Bun.sleep(2);
  };
  try {
    await run(phase);
    // Full.
    let ballast = "";
    if (mounted) ballast = fill(root);
    else fault = "ENOSPC";
    await run(phase);
    faultSecs += phase / 1000;
    if (mounted) unlinkSync(ballast);
    else fault = null;
    await run(phase);
    // Read-only.
    if (mounted) await remount(root, "ro", idle);
    else fault = "EROFS";
    await run(phase);
    faultSecs += phase / 1000;
    if (mounted) await remount(root, "rw", idle);
    else fault = null;
    await run(phase);
    await rig.collector.stop();
  } catch (e) {
    await rig.collector.stop().catch(() => {});
    unmount(root, mounted);
    throw e;
  } finally {
    for (const undo of hooks) undo();
  }
  const st = rig.writer.status();
  let ds: Awaited<ReturnType<typeof checkDataset>>;
  try {
    ds = await checkDataset(dataDir);
  } finally {
    unmount(root, mounted);
  }
  let lost = 0;
  for (const [m, n] of produced) lost += Math.max(0, n - (dropped.get(m) ?? 0) - (ds.rowsByMarket.get(m) ?? 0));
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return {
    method: mounted ? "tmpfs mount (ENOSPC ballast, remount ro)" : "injected fs layer (ENOSPC, EROFS)",
    faults: { full: 1, readOnly: 1 },
    faultSecs,
    writeErrors: st.writeErrors,
    produced: sum(produced),
    dropped: sum(dropped),
    durable,
    found: ds.rows,
    duplicates: ds.duplicates,
    lost,
    maxBufferRows,
    peakBuffered,
    peakRssMb: peakRss / 1e6,
    logWriteFailed: logs.filter((l) => l.includes("write failed")).length,
    logDropping: logs.filter((l) => l.includes("DROPPING")).length,
    logRecovered: logs.filter((l) => l.includes("writes succeed again")).length,
    logSample: [...new Set(logs.map((l) => l.replace(/\d+/g, "N").replace(/\s+/g, " ").trim()))].slice(0, 8),
  };
}
