/** The Prometheus endpoint: valid exposition with every value, scrape hooks, listen parsing, a busy port. */
import { afterAll, describe, expect, test } from "bun:test";
import { Metrics } from "../../src/metrics.ts";
import {
  PROCESS_METRICS,
  PROMETHEUS_CONTENT_TYPE,
  parseListen,
  startMetricsServer,
  type MetricsServer,
} from "../../src/metrics-server.ts";
import { parseExposition } from "../helpers/prom-parse.ts";
import { COLLECTOR_METRICS } from "../../src/collector/metric-names.ts";

describe("parseExposition (the test's own parser)", () => {
  test("rejects malformed lines", () => {
    for (const bad of [
      'a{b="c} 1\n',
      "a 1 2 3\n",
      'a{b="\\x"} 1\n',
      "a one\n",
      "1a 1\n",
      "a 1",
      'a{b="c",b="d"} 1\n',
      "# TYPE a countr\n",
    ]) {
      expect(() => parseExposition(bad)).toThrow();
    }
    expect(parseExposition('a{b="q\\"\\\\\\n"} -Inf\n').samples[0]).toEqual({
      name: "a",
      labels: { b: 'q"\\\n' },
      value: -Infinity,
    });
  });
});

describe("metrics server", () => {
  const metrics = new Metrics();
  metrics.inc(COLLECTOR_METRICS.snapshots, { venue: "mock" }, 41, "Snapshots taken");
  metrics.inc(COLLECTOR_METRICS.snapshots, { venue: "mock" });
  metrics.inc(COLLECTOR_METRICS.rejected, { venue: "kalshi", reason: 'bad "json"\\ \n line' }, 3, "Rejected\nmessages");
  metrics.set(COLLECTOR_METRICS.connected, { venue: "polymarket" }, NaN);
  metrics.set("surveillance_flush_last_ms", { venue: "mock" }, Infinity);
  metrics.set("surveillance_queue_rows", { venue: "mock" }, 1.5e-7);
  let server: MetricsServer | undefined;
  afterAll(() => server?.stop());

  test("off when listen is empty", () => {
    expect(startMetricsServer({ listen: "" }, metrics)).toBeUndefined();
  });

  test("parseListen: empty host binds loopback, IPv6 in brackets", () => {
    expect(parseListen(":9464")).toEqual({ hostname: "127.0.0.1", port: 9464 });
    expect(parseListen("0.0.0.0:1")).toEqual({ hostname: "0.0.0.0", port: 1 });
    expect(parseListen("[::1]:80")).toEqual({ hostname: "::1", port: 80 });
    expect(() => parseListen("9464")).toThrow(/HOST:PORT/);
    expect(() => parseListen("h:70000")).toThrow(/HOST:PORT/);
  });

  test("serves valid exposition format at /metrics with every value", async () => {
    server = startMetricsServer({ listen: ":0" }, metrics)!;
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(res.headers.get("content-type")!.startsWith("text/plain; version=0.0.4")).toBe(true);
    const exp = parseExposition(await res.text());
    const find = (name: string, labels: Record<string, string>) =>
      exp.samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels));
    expect(find(COLLECTOR_METRICS.snapshots, { venue: "mock" })?.value).toBe(42);
    expect(exp.types.get(COLLECTOR_METRICS.snapshots)).toBe("counter");
    expect(exp.helps.get(COLLECTOR_METRICS.snapshots)).toBe("Snapshots taken");
    expect(exp.helps.get(COLLECTOR_METRICS.rejected)).toBe("Rejected\nmessages");
    expect(find(COLLECTOR_METRICS.rejected, { venue: "kalshi", reason: 'bad "json"\\ \n line' })?.value).toBe(3);
    expect(find(COLLECTOR_METRICS.connected, { venue: "polymarket" })?.value).toBeNaN();
    expect(find("surveillance_flush_last_ms", { venue: "mock" })?.value).toBe(Infinity);
    expect(find("surveillance_queue_rows", { venue: "mock" })?.value).toBe(1.5e-7);
    expect(exp.types.get(COLLECTOR_METRICS.connected)).toBe("gauge");
    // RSS is refreshed at scrape: a live process has a resident set of at least a megabyte.
    expect(find(PROCESS_METRICS.rss, {})!.value).toBeGreaterThan(1e6);
  });

  test("onRender hooks run at each scrape", async () => {
    let n = 0;
    metrics.onRender(() => metrics.set("surveillance_scrapes_seen", {}, ++n));
    const value = async () =>
      parseExposition(await (await fetch(`http://127.0.0.1:${server!.port}/metrics`)).text()).samples.find(
        (s) => s.name === "surveillance_scrapes_seen",
      )!.value;
    const first = await value();
    expect(await value()).toBe(first + 1);
  });

  test("/ points at /metrics; 404 elsewhere", async () => {
    const res = await fetch(`http://127.0.0.1:${server!.port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/metrics");
    expect((await fetch(`http://127.0.0.1:${server!.port}/metrics/x`)).status).toBe(404);
  });

  test("a port already in use is a clear error", () => {
    expect(() => startMetricsServer({ listen: `127.0.0.1:${server!.port}` }, metrics)).toThrow(/cannot listen/);
  });
});
