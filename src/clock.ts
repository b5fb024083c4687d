/** Time for everything in src/: a real clock, a scaled one (mock clock_speed) and a simulated one that tests drive. */
import { logger } from "./log.ts";
import { MinHeap } from "./min-heap.ts";

const log = logger("clock");
let timerErrors = 0;

/** Timer callbacks that threw or rejected on a real/scaled clock so far (logged, not fatal). */
export function timerErrorCount(): number {
  return timerErrors;
}

/**
 * A timer callback for setTimeout: a throw or a rejected promise is logged and counted instead of reaching the
 * runtime, where an uncaught error in a timer ends the process without finalizing anything.
 */
function guarded(fn: () => void | Promise<void>): () => void {
  const report = (e: unknown) => {
    timerErrors++;
    log.error(`timer callback failed: ${(e as Error)?.stack ?? String(e)}`);
  };
  return () => {
    try {
      const r = fn();
      if (r && typeof (r as Promise<void>).then === "function") (r as Promise<void>).then(undefined, report);
    } catch (e) {
      report(e);
    }
  };
}

export interface Timer {
  cancel(): void;
}

/** setTimeout fires at once beyond 2^31-1 ms (~24.8 days): a longer wait (`--duration 1000h`) is chained in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function longTimeout(fn: () => void, ms: number): Timer {
  let h: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    h = left > MAX_TIMEOUT_MS ? setTimeout(() => arm(left - MAX_TIMEOUT_MS), MAX_TIMEOUT_MS) : setTimeout(fn, left);
  };
  arm(Math.max(0, ms));
  return { cancel: () => clearTimeout(h) };
}

export interface Clock {
  /** Epoch milliseconds UTC. */
  now(): number;
  /** Resolves after `ms` of this clock's time (rejects with the signal's reason when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms` of this clock's time. */
  setTimer(ms: number, fn: () => void | Promise<void>): Timer;
}

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(ms, signal, longTimeout);
  }
  setTimer(ms: number, fn: () => void | Promise<void>): Timer {
    return longTimeout(guarded(fn), ms);
  }
}

/** Real time sped up `speed` times from `start` (mock clock_speed). */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  constructor(
    readonly speed: number,
    private readonly start = Date.now(),
  ) {
    if (!(speed > 0)) throw new Error("ScaledClock speed must be > 0");
  }
  now(): number {
    return Math.floor(this.start + (Date.now() - this.realStart) * this.speed);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(ms, signal, (fn, d) => this.setTimer(d, fn));
  }
  setTimer(ms: number, fn: () => void | Promise<void>): Timer {
    return longTimeout(guarded(fn), ms / this.speed);
  }
}

interface SimTimer {
  at: number;
  id: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * Simulated time: nothing moves until a driver calls `advance`/`runUntil`. Timers fire in (time, creation) order;
 * each callback's promise is awaited and pending I/O is given a turn before the next timer fires, so async work
 * chained on timers completes in simulated order.
 */
export class SimClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap = new MinHeap<SimTimer>(less);

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(ms, signal, (fn, d) => this.setTimer(d, fn));
  }
  setTimer(ms: number, fn: () => void | Promise<void>): Timer {
    const timer: SimTimer = { at: this.t + Math.max(0, ms), id: this.seq++, fn, cancelled: false };
    this.heap.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  /** Number of live timers. */
  pending(): number {
    return this.heap.items().filter((x) => !x.cancelled).length;
  }
  /** Time of the next live timer, or undefined. */
  nextAt(): number | undefined {
    while (this.heap.peek()?.cancelled) this.heap.pop();
    return this.heap.peek()?.at;
  }
  /** Sets the time without firing timers (a wall-clock step, forward or back). */
  set(ts: number): void {
    this.t = ts;
  }
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.t + ms);
  }
  /** Fires every timer due up to `target` in order, then sets the time to `target`. */
  async runUntil(target: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.nextAt();
      if (next === undefined || next > target) break;
      const timer = this.heap.pop()!;
      if (timer.at > this.t) this.t = timer.at;
      await timer.fn();
      await settle();
    }
    if (target > this.t) this.t = target;
  }
}

function less(a: SimTimer, b: SimTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/** Lets pending promise callbacks and immediate I/O completions run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

function abortableSleep(
  ms: number,
  signal: AbortSignal | undefined,
  schedule: (fn: () => void, ms: number) => Timer,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = schedule(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** clock_speed from the mock config: 0 = simulated as fast as possible, 1 = real time, N = N× real time. */
export function clockForSpeed(speed: number, start?: number): Clock {
  if (speed === 0) return new SimClock(start ?? Date.now());
  if (speed === 1) return new RealClock();
  return new ScaledClock(speed, start);
}
