/** A timer that throws: logged and counted on real and scaled clocks, surfaced to the test on a SimClock. */
import { expect, test } from "bun:test";
import { RealClock, ScaledClock, SimClock, timerErrorCount } from "../../src/clock.ts";
import { stopOnUncaught } from "../../src/collector/run.ts";
import { waitFor } from "../helpers/wait.ts";

test("a throw or a rejection in a real/scaled clock timer is logged and counted, not fatal; later timers still run", async () => {
  const before = timerErrorCount();
  let ran = 0;
  const real = new RealClock();
  real.setTimer(0, () => {
    throw new Error("sync boom");
  });
  real.setTimer(0, async () => {
    throw new Error("async boom");
  });
  new ScaledClock(100).setTimer(0, () => {
    throw new Error("scaled boom");
  });
  real.setTimer(1, () => void ran++);
  await waitFor(() => timerErrorCount() === before + 3 && ran === 1, "three failures counted and the next timer run");
});

test("SimClock still surfaces a failing timer to the test that drives it", async () => {
  const clock = new SimClock();
  clock.setTimer(10, () => {
    throw new Error("sim boom");
  });
  await expect(clock.advance(10)).rejects.toThrow("sim boom");
});

test("stopOnUncaught routes uncaught exceptions and unhandled rejections to the stop path, and uninstalls", () => {
  const seen: unknown[] = [];
  const n0 = process.listenerCount("uncaughtException");
  const r0 = process.listenerCount("unhandledRejection");
  const uninstall = stopOnUncaught((e) => seen.push(e));
  expect(process.listenerCount("uncaughtException")).toBe(n0 + 1);
  const a = new Error("thrown in a listener");
  const b = new Error("rejected");
  process.emit("uncaughtException", a);
  process.emit("unhandledRejection", b, Promise.resolve());
  expect(seen).toEqual([a, b]);
  uninstall();
  expect(process.listenerCount("uncaughtException")).toBe(n0);
  expect(process.listenerCount("unhandledRejection")).toBe(r0);
});
