/** Connection failures are logged once per kind (host + reason) per outage: a later outage of the same kind is news again. */
import { afterEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Collector } from "../../src/collector/collector.ts";
import { FakeAdapter } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

test("a failure kind is warned once per outage, again after a connection opened, and every attempt is counted", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "connect-warn-"));
  dirs.push(dataDir);
  const clock = new SimClock(Date.UTC(2026, 0, 1));
  const adapter = new FakeAdapter(clock, [], false);
  const sink = new FakeSink();
  const warned: string[] = [];
  const log = { info() {}, warn: (m: string) => warned.push(m), error() {}, debug() {} } as never;
  const vc = testVenueCollector({ adapter, sink, clock, dataDir, log, targets: () => ({ hot: [], warm: [] }) });
  const collector = new Collector([vc], sink);
  await collector.start();
  const fail = (reason: string) =>
    adapter.emit({
      kind: "venue_error",
      reason,
      detail: `${reason} detail`,
      connect: { connId: 0, host: "h.example" },
    });
  const connectWarnings = () => warned.filter((w) => w.includes("cannot connect to h.example"));

  for (let i = 0; i < 5; i++) fail("connect_failed");
  fail("auth_refused");
  expect(connectWarnings()).toHaveLength(2); // one per kind, not per attempt
  adapter.emit({ kind: "connection", state: "connected", connId: 0 });
  adapter.emit({ kind: "connection", state: "disconnected", connId: 0, reason: "socket closed" });
  for (let i = 0; i < 3; i++) fail("connect_failed");
  expect(connectWarnings()).toHaveLength(3); // the second outage is warned once again
  expect(connectWarnings()[2]).toContain("connect_failed detail");
  expect(vc.counters.connectFailures).toBe(9);
  await collector.stop();
});
