/**
 * collect with [upload] on, in process on a SimClock, against s3rver behind a fault proxy: after a graceful stop the
 * bucket holds every final file byte for byte; an endpoint down for a simulated hour does not touch collection, the
 * lag grows and then drains; 403s and 500s are retried, counted by class and logged once per class.
 */
import { describe, expect, test } from "bun:test";
import { consola } from "consola";
import { join } from "node:path";
import { runCollect } from "../../src/collector/run.ts";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import { bucketKeys, client, CREDS, localFinalFiles, s3Fixture, sameBytes, uploadConfig } from "./helpers.ts";
import { UPLOAD_METRICS } from "../../src/upload/metric-names.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;
const HOUR = 60 * MIN;

const fx = s3Fixture("upload-collect-");
const freshDir = fx.freshDir;

describe("collect with upload on", () => {
  test("after a graceful stop every final file and the manifest are in the bucket, byte-equal", async () => {
    fx.proxy.set("pass");
    const dir = await freshDir();
    const config = uploadConfig(dir, fx.proxy.endpoint, fx.s3.bucket, { upload: { url: `s3://${fx.s3.bucket}/one` } });
    const clock = new SimClock(T0);
    await scanAll(config, { clock, env: {} });
    const metrics = new Metrics();
    await runCollect(config, { clock, durationMs: HOUR, metrics, env: CREDS });

    const local = localFinalFiles(dir);
    expect(local).toContain("_manifest/orderbook_snapshots.jsonl");
    expect(local.filter((f) => f.startsWith("orderbook_snapshots/")).length).toBe(13);
    expect(local.some((f) => f.startsWith("subscriptions/venue=mock/date=2026-01-01/"))).toBe(true);
    expect(local.some((f) => f.startsWith("metadata/venue=mock/"))).toBe(true);
    const c = client(fx.s3.endpoint, fx.s3.bucket);
    expect(await bucketKeys(c, "one/")).toEqual(local);
    for (const f of local) expect(await sameBytes(c, `one/${f}`, join(dir, f))).toBe(true);
    expect(metrics.get(UPLOAD_METRICS.pending)).toBe(0);
    expect(metrics.get(UPLOAD_METRICS.lag)).toBe(0);
  }, 60_000);

  test("endpoint down for a simulated hour: collection unaffected, the lag grows, then drains", async () => {
    // The same run without upload is the baseline for what collection writes.
    const base = await freshDir();
    const baseConfig = parseConfig({ ...uploadConfigDoc(base), upload: { url: "" } });
    const bclock = new SimClock(T0);
    await scanAll(baseConfig, { clock: bclock, env: {} });
    const baseSummary = await runCollect(baseConfig, { clock: bclock, durationMs: 80 * MIN, env: {} });

    const dir = await freshDir();
    const config = uploadConfig(dir, fx.proxy.endpoint, fx.s3.bucket, { upload: { url: `s3://${fx.s3.bucket}/down` } });
    const clock = new SimClock(T0);
    await scanAll(config, { clock, env: {} });
    const metrics = new Metrics();
    const lag: [number, number][] = [];
    const sample = () => {
      metrics.render(); // what a scrape would see
      lag.push([clock.now() - T0, metrics.get(UPLOAD_METRICS.lag)]);
      if (clock.now() < T0 + 80 * MIN) clock.setTimer(5 * MIN, sample);
    };
    fx.proxy.set("drop");
    clock.setTimer(5 * MIN, sample);
    clock.setTimer(HOUR, () => fx.proxy.set("pass"));
    const summary = await runCollect(config, { clock, durationMs: 80 * MIN, metrics, env: CREDS });

    expect(summary[0].snapshots).toBe(baseSummary[0].snapshots);
    expect(metrics.get(WRITER_METRICS.rowsDropped, { venue: "mock" })).toBe(0);
    expect(fx.proxy.faults.drop).toBeGreaterThan(5);
    expect(metrics.sum(UPLOAD_METRICS.errors)).toBeGreaterThan(5);
    // Lag while down: the first files waited since the first minutes; at 55 min that is ≥ 45 min.
    const at = (t: number) => lag.find(([x]) => x === t)![1];
    expect(at(55 * MIN)).toBeGreaterThanOrEqual(45 * 60);
    expect(at(30 * MIN)).toBeLessThan(at(55 * MIN));
    // Endpoint back at 1 h: the retry (capped at 60 s in this config) drains the backlog well before 1 h 10.
    expect(at(70 * MIN)).toBeLessThan(5 * 60);
    const local = localFinalFiles(dir);
    const c = client(fx.s3.endpoint, fx.s3.bucket);
    expect(await bucketKeys(c, "down/")).toEqual(local);
    expect(metrics.get(UPLOAD_METRICS.pending)).toBe(0);
  }, 120_000);

  test("403 and 500 answers: retried, counted by class, one log line per class", async () => {
    const dir = await freshDir();
    const config = uploadConfig(dir, fx.proxy.endpoint, fx.s3.bucket, { upload: { url: `s3://${fx.s3.bucket}/err` } });
    const clock = new SimClock(T0);
    await scanAll(config, { clock, env: {} });
    const metrics = new Metrics();
    fx.proxy.set("403");
    clock.setTimer(20 * MIN, () => fx.proxy.set("500"));
    clock.setTimer(40 * MIN, () => fx.proxy.set("pass"));
    const warnings: string[] = [];
    const restore = captureWarnings(warnings);
    try {
      await runCollect(config, { clock, durationMs: HOUR, metrics, env: CREDS });
    } finally {
      restore();
    }
    expect(metrics.get(UPLOAD_METRICS.errors, { code: "AccessDenied" })).toBeGreaterThan(2);
    expect(metrics.get(UPLOAD_METRICS.errors, { code: "InternalError" })).toBeGreaterThan(2);
    const lines = warnings.filter((w) => w.includes("upload of"));
    expect(lines.filter((w) => w.includes("AccessDenied")).length).toBe(1);
    expect(lines.filter((w) => w.includes("InternalError")).length).toBe(1);
    expect(warnings.some((w) => w.includes("S3RVER"))).toBe(false); // no credential value in any line
    const c = client(fx.s3.endpoint, fx.s3.bucket);
    expect(await bucketKeys(c, "err/")).toEqual(localFinalFiles(dir));
  }, 60_000);
});

function uploadConfigDoc(dir: string): Record<string, unknown> {
  return {
    data_dir: dir,
    top_k: 5,
    writer: { bucket_minutes: 5, flush_secs: 5 },
    collector: { max_subs_per_venue: 20, hot_count: 4, subscription_churn_limit_per_minute: 40 },
    venues: { mock: { universe_size: 60, seed: 3, updates_per_sec: 2 } },
  };
}

function captureWarnings(into: string[]): () => void {
  const level = consola.level;
  consola.level = 3;
  const reporters = [...consola.options.reporters];
  consola.setReporters([{ log: (o) => void into.push(`${o.tag ? `[${o.tag}] ` : ""}${o.args.join(" ")}`) }]);
  return () => {
    consola.setReporters(reporters);
    consola.level = level;
  };
}
