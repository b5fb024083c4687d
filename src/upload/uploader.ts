/**
 * Copies the data tree's final files to the bucket, off the hot path: a scan every scan_secs queues what the ledger
 * has not verified, a few uploads run at a time, each is verified (size, and the MD5 ETag of a single-part PUT or
 * else a re-read hashed with SHA-256) before its ledger line is written. Failures pause the queue with backoff and
 * jitter on the injected clock; nothing here is awaited by the collector or the writer.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, SimClock } from "../clock.ts";
import type { ConsolaInstance } from "consola";
import { logger, RateLimitedLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { UploadSettings } from "./config.ts";
import { clearLastError, failureClass, type LastError, writeLastError } from "./last-error.ts";
import type { Ledger } from "./ledger.ts";
import { UPLOAD_METRICS } from "./metric-names.ts";
import { type Bucket, errorClass } from "./s3.ts";
import { type Candidate, listOtherFiles, ManifestTail, snapshotCandidate } from "./tree.ts";

export class VerifyError extends Error {
  override readonly name = "VerifyError";
  readonly code = "VerifyMismatch";
}
class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  readonly code = "Timeout";
}

interface Pending {
  cand: Candidate;
  /** Clock time it was first queued: the lag is measured from the oldest. */
  since: number;
  attempts: number;
}

export interface UploaderOptions {
  dataDir: string;
  settings: UploadSettings;
  bucket: Bucket;
  ledger: Ledger;
  clock: Clock;
  metrics?: Metrics;
  /** Jitter source in [0, 1) (tests); default Math.random. */
  random?: () => number;
}

export interface UploaderState {
  pending: number;
  inFlight: number;
  verified: number;
  bytes: number;
  failures: number;
  lastError: string | null;
  /** Oldest pending file's wait, ms (0 when none). */
  lagMs: number;
  /** Per venue: the newest snapshot date/hour verified. */
  uploadedUpTo: Map<string, string>;
}

export class Uploader {
  private readonly o: UploaderOptions;
  private readonly s: UploadSettings;
  private readonly tail: ManifestTail;
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Set<string>();
  /** Last copy of each appending file (clock time), so the manifest and today's journal go at most every mutable_upload_secs. */
  private readonly lastCopy = new Map<string, number>();
  private readonly errLog: RateLimitedLog;
  private readonly random: () => number;
  private scanTimer: { cancel(): void } | null = null;
  private wakeTimer: { cancel(): void; at: number } | null = null;
  private scanning: Promise<number> | null = null;
  private pausedUntil = 0;
  private failures = 0;
  private closed = false;
  private settledWaiters: (() => void)[] = [];
  readonly state = { verified: 0, bytes: 0, lastError: null as string | null };
  private readonly upTo = new Map<string, string>();
  /** Made per uploader (not at import), so a logger set up for a run sees its lines. */
  private readonly log: ConsolaInstance = logger("upload");
  /** Writes and removals of _upload/last-error.json, in order; the file may be there from a previous run. */
  private errorIo: Promise<void> = Promise.resolve();
  private errorFile = true;

  constructor(o: UploaderOptions) {
    this.o = o;
    this.s = o.settings;
    this.tail = new ManifestTail(o.dataDir);
    this.random = o.random ?? Math.random;
    // One line per failure class per hour: an outage is announced, not narrated.
    this.errLog = new RateLimitedLog((m) => this.log.warn(m), 1, 60 * 60_000);
    o.metrics?.onRender(() => this.publish());
  }

  start(): void {
    this.scheduleScan(0);
  }

  /** Runs one scan now (tests, drain); `force` also copies appending files whose last copy is recent. */
  scan(force = false): Promise<number> {
    this.scanning ??= this.scanNow(force).finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  snapshot(): UploaderState {
    return {
      pending: this.pending.size,
      inFlight: this.inFlight.size,
      verified: this.state.verified,
      bytes: this.state.bytes,
      failures: this.failures,
      lastError: this.state.lastError,
      lagMs: this.lagMs(),
      uploadedUpTo: new Map(this.upTo),
    };
  }

  /**
   * Stops scanning, queues every final file once more (appending ones too) and waits until all are verified or
   * `maxMs` of clock time has passed; what is left goes at the next start. On a SimClock nobody drives time after
   * collection stops, so the drain advances it itself, only while no request is in flight.
   */
  async drain(maxMs: number): Promise<number> {
    this.scanTimer?.cancel();
    this.scanTimer = null;
    await this.scanning;
    await this.scan(true);
    const clock = this.o.clock;
    const deadline = clock.now() + maxMs;
    for (;;) {
      this.pump();
      if (this.pending.size === 0 && this.inFlight.size === 0) {
        // A file appended while its copy was in flight was skipped by the scan above: scan until nothing is new.
        if (clock.now() >= deadline || (await this.scan(true)) === 0) break;
        continue;
      }
      if (this.inFlight.size > 0) {
        await new Promise<void>((r) => this.settledWaiters.push(r));
        continue;
      }
      if (clock.now() >= deadline) break;
      const wake = Math.min(Math.max(this.pausedUntil, clock.now()), deadline);
      if (clock instanceof SimClock) await clock.runUntil(wake);
      else await clock.sleep(wake - clock.now());
    }
    this.close();
    await this.errorIo;
    const left = this.pending.size;
    if (left > 0) this.log.warn(`stopping with ${left} file(s) not yet uploaded; the next start uploads them`);
    this.publish();
    return left;
  }

  /** Stops without draining (in-flight requests finish on their own; their ledger lines are still written). */
  close(): void {
    this.closed = true;
    this.scanTimer?.cancel();
    this.scanTimer = null;
    this.wakeTimer?.cancel();
    this.wakeTimer = null;
  }

  private scheduleScan(ms: number): void {
    if (this.closed) return;
    this.scanTimer = this.o.clock.setTimer(ms, async () => {
      this.scanTimer = null;
      await this.scan().catch((e) =>
        this.errLog.warn("scan", `cannot scan the data tree: ${(e as Error).message}`, this.o.clock.now()),
      );
      this.scheduleScan(this.s.scan_secs * 1000);
    });
  }

  /** Returns how many files it queued. */
  private async scanNow(force: boolean): Promise<number> {
    const now = this.o.clock.now();
    const before = this.pending.size;
    const ledger = this.o.ledger;
    for (const e of await this.tail.next()) {
      const c = snapshotCandidate(e);
      // Snapshot files never change after their rename: a ledger line of the listed size is enough, no stat.
      const v = ledger.get(c.rel);
      if (v && v.size === e.bytes) this.noteVerified(c);
      else this.enqueue(c, now);
    }
    for (const c of await listOtherFiles(this.o.dataDir, now)) {
      if (this.pending.has(c.rel) || this.inFlight.has(c.rel)) continue;
      let st: { size: number; mtimeMs: number };
      try {
        st = await stat(join(this.o.dataDir, c.rel));
      } catch {
        continue;
      }
      if (ledger.isVerified(c.rel, st.size, st.mtimeMs)) continue;
      if (c.appending && !force) {
        const last = this.lastCopy.get(c.rel);
        if (last !== undefined && now - last < this.s.mutable_upload_secs * 1000) continue;
      }
      this.enqueue(c, now);
    }
    this.publish();
    this.pump();
    return Math.max(0, this.pending.size - before);
  }

  private enqueue(c: Candidate, now: number): void {
    if (!this.pending.has(c.rel)) this.pending.set(c.rel, { cand: c, since: now, attempts: 0 });
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    if (now < this.pausedUntil) {
      this.wakeAt(this.pausedUntil);
      return;
    }
    for (const p of this.pending.values()) {
      if (this.inFlight.size >= this.s.concurrency) break;
      if (this.inFlight.has(p.cand.rel)) continue;
      this.inFlight.add(p.cand.rel);
      void this.run(p);
    }
  }

  private wakeAt(at: number): void {
    if (this.closed || (this.wakeTimer && this.wakeTimer.at <= at)) return;
    this.wakeTimer?.cancel();
    const t = this.o.clock.setTimer(at - this.o.clock.now(), () => {
      this.wakeTimer = null;
      this.pump();
    });
    this.wakeTimer = { cancel: () => t.cancel(), at };
  }

  private async run(p: Pending): Promise<void> {
    const rel = p.cand.rel;
    p.attempts++;
    if (p.cand.appending) this.lastCopy.set(rel, this.o.clock.now());
    try {
      const done = await this.copy(p.cand);
      this.pending.delete(rel);
      if (done) {
        this.noteVerified(p.cand);
        this.recordError(null);
      }
      if (this.failures > 0) {
        this.log.info(`uploads succeed again after ${this.failures} failed attempt(s) (last: ${this.state.lastError})`);
        this.failures = 0;
        this.state.lastError = null;
      }
    } catch (e) {
      this.onFailure(rel, e);
    } finally {
      this.inFlight.delete(rel);
      this.publish();
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const w of waiters) w();
      if (!this.closed) this.pump();
    }
  }

  /** Uploads and verifies one file; false when there was nothing to do (gone, or already verified). */
  private async copy(c: Candidate): Promise<boolean> {
    const abs = join(this.o.dataDir, c.rel);
    let st: { size: number; mtimeMs: number };
    try {
      st = await stat(abs);
    } catch {
      return false; // deleted meanwhile (a replaced stats file's old name, retention): nothing to copy
    }
    if (this.o.ledger.isVerified(c.rel, st.size, st.mtimeMs)) return false;
    // Only the first `size` bytes: an appending file may grow while it is read, and the copy is of one version.
    const body = Bun.file(abs).slice(0, st.size);
    const { md5, sha256 } = await hashStream(body.stream(), true);
    const timeoutMs = this.s.request_timeout_secs * 1000;
    await withTimeout(this.o.bucket.put(c.rel, body), timeoutMs);
    const remote = await withTimeout(this.o.bucket.stat(c.rel), timeoutMs);
    if (!remote || remote.size !== st.size)
      throw new VerifyError(`${c.rel}: the copy has ${remote ? remote.size : "no"} bytes, the file ${st.size}`);
    if (remote.etag !== md5) {
      // Not a plain MD5 ETag (a multipart upload, SSE-KMS): read the copy back and compare SHA-256.
      const back = await withTimeout(hashStream(this.o.bucket.get(c.rel), false), timeoutMs);
      if (back.sha256 !== sha256 || back.bytes !== st.size)
        throw new VerifyError(`${c.rel}: the copy's SHA-256 differs from the file's`);
    }
    await this.o.ledger.record({
      path: c.rel,
      size: st.size,
      mtime_ms: st.mtimeMs,
      sha256,
      verified_at: this.o.clock.now(),
    });
    this.state.verified++;
    this.state.bytes += st.size;
    this.o.metrics?.inc(UPLOAD_METRICS.bytes, {}, st.size, "bytes uploaded and verified");
    this.o.metrics?.inc(UPLOAD_METRICS.files, { kind: c.kind }, 1, "files uploaded and verified");
    return true;
  }

  private onFailure(rel: string, e: unknown): void {
    this.failures++;
    const code = errorClass(e);
    const message = (e as Error)?.message ?? String(e);
    this.state.lastError = `${code}: ${message}`;
    this.o.metrics?.inc(UPLOAD_METRICS.errors, { code }, 1, "failed upload attempts (retried), by error class");
    const base = Math.min(this.s.retry_cap_ms, this.s.retry_base_ms * 2 ** Math.min(this.failures - 1, 30));
    // "Equal jitter": half the delay fixed, half random, so many recorders do not retry in step.
    const delay = Math.round(base / 2 + (base / 2) * this.random());
    const now = this.o.clock.now();
    this.recordError({
      class: failureClass(code),
      code,
      message,
      file: rel,
      at: new Date(now).toISOString(),
      at_ms: now,
      count: this.failures,
    });
    this.pausedUntil = Math.max(this.pausedUntil, now + delay);
    this.errLog.warn(
      code,
      `upload of ${rel} failed (${this.state.lastError}); ${this.pending.size} file(s) pending, retrying in ${(delay / 1000).toFixed(1)} s (attempt ${this.failures}); collection goes on`,
      now,
    );
    this.wakeAt(this.pausedUntil);
  }

  /** Writes the last failure to _upload/last-error.json, or (null, after a success) removes it; never awaited. */
  private recordError(e: LastError | null): void {
    if (e === null && !this.errorFile) return;
    this.errorFile = e !== null;
    const dir = this.o.dataDir;
    this.errorIo = this.errorIo
      .then(() => (e ? writeLastError(dir, e) : clearLastError(dir)))
      .catch((err) =>
        this.errLog.warn(
          "last-error",
          `cannot update the last-error file: ${(err as Error).message}`,
          this.o.clock.now(),
        ),
      );
  }

  private noteVerified(c: Candidate): void {
    if (c.kind !== "snapshot" || !c.venue) return;
    const hour = /\/hour=(\d{2})\//.exec(c.rel)?.[1];
    const mark = `${c.date ?? ""}T${hour ?? "00"}`;
    const prev = this.upTo.get(c.venue);
    if (prev === undefined || mark > prev) this.upTo.set(c.venue, mark);
  }

  private lagMs(): number {
    let oldest = Infinity;
    for (const p of this.pending.values()) if (p.since < oldest) oldest = p.since;
    return oldest === Infinity ? 0 : Math.max(0, this.o.clock.now() - oldest);
  }

  private publish(): void {
    const m = this.o.metrics;
    if (!m) return;
    m.set(UPLOAD_METRICS.pending, {}, this.pending.size, "final files not yet uploaded and verified");
    m.set(UPLOAD_METRICS.lag, {}, this.lagMs() / 1000, "how long the oldest pending file has waited, seconds");
  }
}

/** MD5 (when asked) and SHA-256 of a stream, and its length. */
export async function hashStream(
  stream: ReadableStream<Uint8Array>,
  md5: boolean,
): Promise<{ md5: string; sha256: string; bytes: number }> {
  const sha = new Bun.CryptoHasher("sha256");
  const m = md5 ? new Bun.CryptoHasher("md5") : undefined;
  let bytes = 0;
  for await (const chunk of stream) {
    sha.update(chunk);
    m?.update(chunk);
    bytes += chunk.length;
  }
  return { md5: m?.digest("hex") ?? "", sha256: sha.digest("hex"), bytes };
}

/**
 * Rejects after `ms` of real time. A stalled connection stalls in real time whatever the clock, and Bun's S3 calls
 * take no abort signal: the request is abandoned (it may still finish; the key is the same, so that is harmless).
 */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let h: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    h = setTimeout(() => reject(new TimeoutError(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(h));
}
