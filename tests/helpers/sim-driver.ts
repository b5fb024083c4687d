/** Runs a promise to completion on a SimClock: lets real (loopback) I/O progress, and when nothing moves, fires the next timer. */
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
