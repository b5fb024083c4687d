/**
 * The disk guard and local retention, on the injected clock: every check_secs the data dir's free space is probed;
 * below the warning level a loud warning and a gauge; below the hard floor verified-uploaded files are deleted,
 * oldest first, before the writer can run out of space and drop rows. Retention runs hourly. Nothing unverified,
 * staged or appending is ever deleted (retention.ts says what is).
 */
import { statfs, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { ConsolaInstance } from "consola";
import type { Clock, Timer } from "../clock.ts";
import { logger, RateLimitedLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { DiskSettings, RetentionSettings } from "./config.ts";
import type { Ledger } from "./ledger.ts";
import { DISK_METRICS } from "./metric-names.ts";
import { guardVictims, type LocalFile, listLocalFiles, retentionVictims } from "./retention.ts";

export interface DiskSpace {
  free: number;
  total: number;
}
export type FreeSpaceProbe = (dir: string) => Promise<DiskSpace>;

/** statfs of the filesystem holding `dir`: blocks available to an unprivileged user. */
export const statfsProbe: FreeSpaceProbe = async (dir) => {
  const s = await statfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
};

const GB = 1e9;
const RETENTION_EVERY_MS = 3_600_000;

export interface DiskGuardOptions {
  dataDir: string;
  disk: DiskSettings;
  retention: RetentionSettings;
  /** The upload ledger: only files it has verified are deletable; undefined (upload off) = nothing is. */
  ledger?: Ledger;
  clock: Clock;
  metrics?: Metrics;
  probe?: FreeSpaceProbe;
  /** Called for each deletion (tests). */
  onDelete?: (f: LocalFile, reason: "retention" | "floor") => void;
}

export class DiskGuard {
  private readonly o: DiskGuardOptions;
  private readonly probe: FreeSpaceProbe;
  private readonly log: ConsolaInstance = logger("disk");
  private readonly loud: RateLimitedLog;
  private timer: Timer | null = null;
  private running: Promise<void> | null = null;
  private lastRetention = -Infinity;
  private stopped = false;

  constructor(o: DiskGuardOptions) {
    this.o = o;
    this.probe = o.probe ?? statfsProbe;
    this.loud = new RateLimitedLog((m) => this.log.warn(m), 1, 10 * 60_000);
    if (o.retention.keep_local_days > 0 && !o.ledger)
      this.log.warn(
        `retention.keep_local_days = ${o.retention.keep_local_days} but upload is off: nothing is deleted (only files with a verified copy are)`,
      );
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** One check now (also what the timer runs). */
  check(): Promise<void> {
    this.running ??= this.checkNow().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(ms, async () => {
      this.timer = null;
      await this.check().catch((e) =>
        this.loud.warn("check", `disk check failed: ${(e as Error).message}`, this.o.clock.now()),
      );
      this.schedule(this.o.disk.check_secs * 1000);
    });
  }

  private async checkNow(): Promise<void> {
    const now = this.o.clock.now();
    const d = this.o.disk;
    if (this.o.ledger && this.o.retention.keep_local_days > 0 && now - this.lastRetention >= RETENTION_EVERY_MS) {
      this.lastRetention = now;
      const files = await listLocalFiles(this.o.dataDir, now);
      const victims = retentionVictims(files, this.o.ledger, now, this.o.retention.keep_local_days);
      const n = await this.remove(victims, "retention");
      if (n > 0)
        this.log.info(
          `retention: deleted ${n} local file(s) older than ${this.o.retention.keep_local_days} days (copies verified)`,
        );
    }
    let space = await this.probe(this.o.dataDir);
    const warnAt = Math.max(d.min_free_gb * GB, (d.min_free_pct / 100) * space.total);
    const floor = Math.max(d.floor_free_gb * GB, (d.floor_free_pct / 100) * space.total);
    if (space.free < floor) {
      const files = await listLocalFiles(this.o.dataDir, now);
      const victims = guardVictims(files, this.o.ledger, floor - space.free);
      const n = await this.remove(victims, "floor");
      const freed = victims.slice(0, n).reduce((s, f) => s + f.size, 0);
      if (n > 0) {
        this.log.warn(
          `free space ${fmtGb(space.free)} below the floor ${fmtGb(floor)}: deleted ${n} verified-uploaded file(s), oldest first (${fmtGb(freed)}, ${victims[0].rel} …)`,
        );
        space = await this.probe(this.o.dataDir);
      } else
        this.loud.warn(
          "floor",
          `free space ${fmtGb(space.free)} below the floor ${fmtGb(floor)} and no local file has a verified copy to delete: the writer will drop rows when the disk is full. Free space on ${this.o.dataDir} now`,
          now,
        );
    }
    if (space.free < warnAt)
      this.loud.warn(
        "low",
        `LOW DISK: ${fmtGb(space.free)} free on ${this.o.dataDir} (warning below ${fmtGb(warnAt)}, deleting verified-uploaded files below ${fmtGb(floor)})`,
        now,
      );
    this.o.metrics?.set(DISK_METRICS.free, {}, space.free, "free bytes on the data dir's filesystem");
    this.o.metrics?.set(
      DISK_METRICS.low,
      {},
      space.free < warnAt ? 1 : 0,
      "1 when free space is below disk.min_free_gb/pct",
    );
  }

  /** Deletes in order; stops at the first failure (logged). Returns how many went. */
  private async remove(files: LocalFile[], reason: "retention" | "floor"): Promise<number> {
    let n = 0;
    for (const f of files) {
      try {
        await unlink(join(this.o.dataDir, f.rel));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
          this.loud.warn(`unlink:${reason}`, `cannot delete ${f.rel}: ${(e as Error).message}`, this.o.clock.now());
          break;
        }
      }
      n++;
      this.o.metrics?.inc(DISK_METRICS.deleted, { reason }, 1, "local files deleted (their copy verified), by reason");
      this.o.metrics?.inc(DISK_METRICS.deletedBytes, { reason }, f.size, "bytes of local files deleted, by reason");
      this.o.onDelete?.(f, reason);
    }
    return n;
  }
}

function fmtGb(bytes: number): string {
  return bytes >= GB ? `${(bytes / GB).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
