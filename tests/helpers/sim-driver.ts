/** Drivers of a SimClock against real (loopback) I/O: run a promise to completion, or step until a condition holds. */
import type { SimClock } from "../../src/clock.ts";

export async function drive<T>(clock: SimClock, p: Promise<T>, timeoutMs = 10_000): Promise<T> {
  const state: { done: boolean; ok?: boolean; v?: T; e?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(state, { done: true, ok: true, v }),
    (e) => Object.assign(state, { done: true, ok: false, e }),
  );
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await Bun.sleep(1);
    if (state.done) {
      if (state.ok) return state.v as T;
      throw state.e;
    }
    if (performance.now() > deadline) throw new Error("drive: the promise did not settle");
    const next = clock.nextAt();
    if (next !== undefined) await clock.runUntil(next);
  }
}

/** A promise's outcome as fields to poll while stepping a clock. */
export function settled<T>(p: Promise<T>): { done: boolean; value: T | undefined; error: unknown } {
  const st = { done: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then(
    (v) => Object.assign(st, { done: true, value: v }),
    (e) => Object.assign(st, { done: true, error: e }),
  );
  return st;
}

/** Advances `clock` `stepMs` at a time, a real millisecond apart (loopback I/O keeps up), until `pred` holds. */
export async function stepUntil(
  clock: SimClock,
  pred: () => boolean,
  what: string,
  stepMs = 50,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await clock.advance(stepMs);
    await Bun.sleep(1);
  }
}
