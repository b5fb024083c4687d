/**
 * One writer per data dir: `collect` and `demo` hold `<data dir>/_writer.lock` (pid, host, start time) from before the
 * writer's recovery touches staging until they stop. Taken atomically (a fully written temp file hard-linked into
 * place, which fails if the lock exists); a lock whose process is gone from this host is taken over, with a log line.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { UserError } from "./errors.ts";
import { lockPath } from "./layout.ts";

export interface LockInfo {
  pid: number;
  host: string;
  /** Epoch ms (wall clock) when the lock was taken. */
  started_at: number;
  command: string;
}

export interface DataDirLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock if it is still ours. Synchronous, so a hard exit can call it too. Idempotent. */
  release(): void;
}

export interface LockOptions {
  /** Wall-clock now (epoch ms), written into the lock. */
  now: number;
  command: string;
  /** Told when a stale lock is taken over. */
  onTakeover?: (message: string) => void;
  /** Injected for tests: is `pid` alive on this host, and since when (epoch ms, when known)? */
  probe?: (pid: number) => { alive: boolean; startedAt?: number };
}

const held = new Map<string, DataDirLock>();

/** Releases every lock this process holds (the hard exit on a second Ctrl-C: staging stays, the lock goes). */
export function releaseHeldLocks(): void {
  for (const l of [...held.values()]) l.release();
}

/**
 * Takes the data dir's lock or throws a UserError (exit 1) naming the holder. A lock left by a dead process on this
 * host (no such pid, or a pid reused by a process started after the lock was taken) is stale and taken over.
 */
export function acquireDataDirLock(dataDir: string, opts: LockOptions): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  const info: LockInfo = { pid: process.pid, host: hostname(), started_at: opts.now, command: opts.command };
  const probe = opts.probe ?? probeProcess;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { flush: true });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (tryLink(tmp, path)) return handle(path, info);
      const holder = readLock(path);
      if (holder === "missing") continue; // released between our link and our read: try again
      if (holder !== "unreadable" && !isStale(path, holder, probe)) throw inUse(path, holder);
      if (holder === "unreadable" && attempt === 0) continue; // perhaps caught mid-takeover; look once more
      // Stale: move it aside under a name only we use; only one of several racing processes wins the rename.
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = readLock(aside);
      if (typeof moved === "object" && holder !== "unreadable" && !sameLock(moved, holder)) {
        // A racer had already replaced the stale lock with its own live one: put it back and refuse.
        if (!tryLink(aside, path)) unlinkQuiet(aside);
        unlinkQuiet(aside);
        throw inUse(path, moved);
      }
      unlinkQuiet(aside);
      opts.onTakeover?.(
        holder === "unreadable"
          ? `took over an unreadable lock ${path}`
          : `took over a stale lock ${path}: pid ${holder.pid} on ${holder.host} since ${iso(holder.started_at)} is no longer running`,
      );
    }
    if (tryLink(tmp, path)) return handle(path, info);
    const holder = readLock(path);
    throw typeof holder === "object" ? inUse(path, holder) : new UserError(`cannot take the lock ${path}`, 1);
  } finally {
    unlinkQuiet(tmp);
  }
}

function handle(path: string, info: LockInfo): DataDirLock {
  let released = false;
  const lock: DataDirLock = {
    path,
    info,
    release() {
      if (released) return;
      released = true;
      held.delete(path);
      const now = readLock(path);
      if (typeof now === "object" && sameLock(now, info)) unlinkQuiet(path);
    },
  };
  held.set(path, lock);
  return lock;
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new UserError(`cannot create the lock ${to}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 1);
  }
}

function readLock(path: string): LockInfo | "missing" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable";
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    if (Number.isInteger(v.pid) && typeof v.host === "string" && Number.isFinite(v.started_at)) return v;
  } catch {}
  return "unreadable";
}

const sameLock = (a: LockInfo, b: LockInfo) => a.pid === b.pid && a.host === b.host && a.started_at === b.started_at;

function isStale(path: string, l: LockInfo, probe: NonNullable<LockOptions["probe"]>): boolean {
  if (l.host !== hostname()) return false; // another machine's process: we cannot tell, so it holds
  // Our own pid but not taken by this process: a previous incarnation (a container restarts as the same pid).
  if (l.pid === process.pid) return !held.has(path);
  const p = probe(l.pid);
  if (!p.alive) return true;
  // A pid reused by a process that started after the lock was taken (2 s slack for clock-tick rounding).
  return p.startedAt !== undefined && p.startedAt > l.started_at + 2000;
}

function inUse(path: string, l: LockInfo): UserError {
  const other = l.host !== hostname();
  return new UserError(
    `data dir in use by pid ${l.pid} on ${l.host} since ${iso(l.started_at)}${l.command ? ` (${l.command})` : ""}`,
    1,
    other
      ? `Another machine holds ${path}. Stop that process, or remove the file if that machine is gone for good.`
      : `Stop that process first (one collector per data dir), or use another --data-dir. The lock is ${path}.`,
  );
}

const iso = (ts: number) => new Date(ts).toISOString().replace(/\.\d{3}Z$/, "Z");

function unlinkQuiet(p: string): void {
  try {
    unlinkSync(p);
  } catch {}
}

/** Linux: /proc tells whether the pid exists and when it started; elsewhere signal 0 tells whether it exists. */
export function probeProcess(pid: number): { alive: boolean; startedAt?: number } {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return { alive: false };
    return { alive: true }; // EPERM: it exists, owned by someone else
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime, clock ticks since boot) counted after the parenthesised command name.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (Number.isFinite(ticks) && Number.isFinite(btime)) return { alive: true, startedAt: btime * 1000 + ticks * 10 };
  } catch {}
  return { alive: true };
}
