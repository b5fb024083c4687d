/**
 * The uploader against s3rver on loopback: MB/s of verified copies of a day's snapshot-sized files (the real
 * Uploader, ledger and MD5 check), and the collector's CPU and peak RSS with upload on vs off for the same simulated
 * collect (each in its own process; the server's CPU is this process's, not the collector's).
 * `bun run bench upload` (FILES=… files of FILE_MB each, HOURS=… simulated hours, MUTABLE_SECS=… for
 * upload.mutable_upload_secs). Noisy on a shared machine.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RealClock, SimClock } from "../src/clock.ts";
import { parseConfig } from "../src/config.ts";
import { runCollect } from "../src/collector/run.ts";
import { setupLogging } from "../src/log.ts";
import { scanAll } from "../src/scanner/scanner.ts";
import { snapshotPath } from "../src/layout.ts";
import { appendManifest } from "../src/storage/manifest.ts";
import { nodeFs } from "../src/storage/fs.ts";
import { UPLOAD_DEFAULTS } from "../src/upload/config.ts";
import { Ledger } from "../src/upload/ledger.ts";
import { Metrics } from "../src/metrics.ts";
import { UPLOAD_METRICS } from "../src/upload/metric-names.ts";
import { openBucket } from "../src/upload/s3.ts";
import { Uploader } from "../src/upload/uploader.ts";
import { startS3 } from "../tests/helpers/s3-server.ts";

const MB = 1e6;
const T0 = Date.UTC(2026, 0, 1);
const CREDS = { BENCH_S3_KEY: "S3RVER", BENCH_S3_SECRET: "S3RVER" };
/** A venue-day at the defaults is 288 files of ≈ 1.1 MB (0.31 GB); a quarter of it by default. */
const FILES = Number(process.env.FILES ?? 72);
const FILE_MB = Number(process.env.FILE_MB ?? 1.1);
const HOURS = Number(process.env.HOURS ?? 3);

function peakRssMb(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** One simulated collect (mock venue), upload on (`endpoint`) or off; prints {cpu_s, wall_s, rss_mb, uploaded} as JSON. */
async function child(mode: "on" | "off", endpoint: string): Promise<void> {
  setupLogging("pretty");
  const { consola } = await import("consola");
  consola.level = 0;
  const dir = mkdtempSync(join(tmpdir(), `surv-bench-upload-${mode}-`));
  try {
    const config = parseConfig({
      data_dir: dir,
      collector: { max_subs_per_venue: 200, hot_count: 40, subscription_churn_limit_per_minute: 200 },
      venues: { mock: { universe_size: 400, seed: 7, updates_per_sec: 4 } },
      metrics: { log_interval_secs: 3600 },
      upload:
        mode === "on"
          ? {
              url: "s3://archive/bench",
              endpoint,
              access_key_id_env: "BENCH_S3_KEY",
              secret_access_key_env: "BENCH_S3_SECRET",
              ...(process.env.MUTABLE_SECS ? { mutable_upload_secs: Number(process.env.MUTABLE_SECS) } : {}),
            }
          : { url: "" },
    });
    const clock = new SimClock(T0 + 10 * 3_600_000);
    await scanAll(config, { clock, env: {} });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const metrics = new Metrics();
    const summary = await runCollect(config, { clock, durationMs: HOURS * 3_600_000, env: CREDS, metrics });
    const cpu = process.cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    const ledger = await Ledger.open(dir, "s3://archive/bench");
    console.log(
      JSON.stringify({
        cpu_s: (cpu.user + cpu.system) / 1e6,
        wall_s: wall,
        rss_mb: peakRssMb(),
        rows: summary.reduce((s, v) => s + v.snapshots, 0),
        uploaded: ledger.size,
        uploaded_mb: metrics.get(UPLOAD_METRICS.bytes) / MB,
        copies: Object.fromEntries(
          ["snapshot", "manifest", "journal", "universe", "stats"].map((kind) => [
            kind,
            metrics.get(UPLOAD_METRICS.files, { kind }),
          ]),
        ),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** FILES files in a data tree with their manifest lines, uploaded by the real Uploader; MB/s wall and per CPU second. */
async function throughput(endpoint: string, concurrency: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "surv-bench-upload-"));
  try {
    const bytes = Math.round(FILE_MB * MB);
    const body = new Uint8Array(bytes);
    for (let i = 0; i < FILES; i++) {
      const start = T0 + i * 300_000;
      const rel = snapshotPath("mock", start, 5);
      crypto.getRandomValues(body.subarray(0, 65_536)); // distinct files; the rest need not be random
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), body);
      await appendManifest(nodeFs, dir, {
        path: rel,
        venue: "mock",
        bucket_start: start,
        bucket_start_iso: new Date(start).toISOString(),
        bucket_minutes: 5,
        part: 0,
        rows: 1,
        bytes,
        min_ts_recv: start,
        max_ts_recv: start,
        markets: 1,
        written_at: start,
      });
    }
    const settings = { ...UPLOAD_DEFAULTS, url: `s3://archive/tp${concurrency}-${Date.now()}`, endpoint, concurrency };
    const bucket = openBucket(settings, { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    const ledger = await Ledger.open(dir, bucket.url);
    const up = new Uploader({ dataDir: dir, settings, bucket, ledger, clock: new RealClock() });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const left = await up.drain(600_000);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const total = (FILES * bytes) / MB;
    if (left > 0 || ledger.size < FILES) throw new Error(`${left} left, ${ledger.size} verified`);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    return `concurrency ${concurrency}: ${FILES} files, ${total.toFixed(0)} MB in ${secs.toFixed(2)} s: ${(total / secs).toFixed(1)} MB/s wall, ${(total / cpuSecs).toFixed(1)} MB per CPU s (uploader and server in one process)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") await child(process.argv[3] as "on" | "off", process.argv[4]);
else {
  const s3 = await startS3("archive");
  try {
    console.log(`throughput to s3rver on loopback (${FILE_MB} MB files, verified: PUT + HEAD + MD5):`);
    for (const c of [2, 4]) console.log(`  ${await throughput(s3.endpoint, c)}`);
    console.log(`collect, mock venue, ${HOURS} simulated hours (SimClock), upload off vs on, own process each:`);
    const runs: Record<"on" | "off", { cpu_s: number; rss_mb: number }[]> = { on: [], off: [] };
    for (const mode of ["off", "on", "off", "on"] as const) {
      // async: the server runs on this process's event loop
      const p = Bun.spawn(["bun", import.meta.path, "--child", mode, s3.endpoint], {
        env: { ...process.env, ...CREDS },
        stdout: "pipe",
        stderr: "inherit",
      });
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      if (code !== 0) throw new Error(`child ${mode} exited ${code}`);
      const r = JSON.parse(out.trim().split("\n").at(-1)!);
      console.log(
        `  upload ${mode.padEnd(3)}: CPU ${r.cpu_s.toFixed(2)} s, wall ${r.wall_s.toFixed(2)} s, peak RSS ${r.rss_mb.toFixed(0)} MB, ${r.rows.toLocaleString()} rows` +
          (mode === "on"
            ? `; ${r.uploaded} files, ${r.uploaded_mb.toFixed(1)} MB uploaded in ${Object.entries(
                r.copies as Record<string, number>,
              )
                .filter(([, n]) => n > 0)
                .map(([k, n]) => `${n} ${k}`)
                .join(", ")} copies`
            : ""),
      );
      runs[mode].push(r);
    }
    // The least disturbed run of each mode (lowest CPU, lowest RSS) against the other's.
    const least = (mode: "on" | "off", k: "cpu_s" | "rss_mb") => Math.min(...runs[mode].map((r) => r[k]));
    const cpuOff = least("off", "cpu_s"),
      cpuOn = least("on", "cpu_s");
    console.log(
      `upload on vs off (least of 2 each): CPU ${(((cpuOn - cpuOff) / cpuOff) * 100).toFixed(1)} % more (${(cpuOn - cpuOff).toFixed(2)} s), peak RSS ${(least("on", "rss_mb") - least("off", "rss_mb")).toFixed(0)} MB more (target: < 10 %, < 50 MB)`,
    );
  } finally {
    await s3.close();
  }
}
