/** One collector per data dir: two real `collect` processes on one dir (the second refused, the first loses nothing), stale locks. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { acquireDataDirLock } from "../../src/data-dir-lock.ts";
import { finalRows, glob, LIVE_MOCK_TOML, spawnCollect } from "../helpers/live-collect.ts";
import { runCli } from "../helpers/run-cli.ts";

const SLOW = 90_000;
let dir: string;
let cfg: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lock-"));
  cfg = join(dir, "test.toml");
  await Bun.write(cfg, LIVE_MOCK_TOML); // real time, so both processes overlap
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function until(pred: () => boolean, what: string, ms = 30_000) {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe("data dir lock", () => {
  test(
    "a second collect on the same dir is refused at once (exit 1, names pid/host/since); the first finalizes every staged row",
    async () => {
      const d = join(dir, "two");
      expect((await runCli(["scan", "--config", cfg, "--data-dir", d])).code).toBe(0);
      const a = spawnCollect(cfg, d, "1000h");
      let errA = "";
      const pump = (async () => {
        for await (const chunk of a.stderr) errA += new TextDecoder().decode(chunk);
      })();
      // Rows durable in staging: what the old second process would have "recovered" out from under the first.
      await until(() => glob(d, "_staging/**/*.arrows").length > 0, "staged rows of the first collect").catch((e) => {
        throw new Error(`${e.message}; its stderr: ${errA}`);
      });

      const b = await runCli(["collect", "--config", cfg, "--data-dir", d, "--duration", "1m"]);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(
        new RegExp(`data dir in use by pid ${a.pid} on ${hostname()} since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ`),
      );
      expect(b.stderr).not.toContain("recovered");
      expect(glob(d, "_staging/**/*.arrows").length).toBeGreaterThan(0); // untouched by the refused process

      // Readers never need the lock.
      const st = await runCli(["status", "--config", cfg, "--data-dir", d]);
      expect(st.code).toBe(0);

      a.kill("SIGINT");
      const [out, code] = await Promise.all([new Response(a.stdout).text(), a.exited]);
      await pump;
      expect(code).toBe(0);
      expect(errA).not.toContain("ENOENT");
      const snapshots = Number(/^mock: (\d+) snapshots/m.exec(out)?.[1]);
      expect(snapshots).toBeGreaterThan(0);
      expect(finalRows(d)).toBe(snapshots); // every row it took ends final
      expect(glob(d, "_staging/**/*.arrows")).toEqual([]);
      expect(existsSync(join(d, "_writer.lock"))).toBe(false); // released at the end
    },
    SLOW,
  );

  test(
    "a stale lock (dead pid on this host) is taken over with a log line; another host's lock is refused",
    async () => {
      const d = join(dir, "stale");
      expect((await runCli(["scan", "--config", cfg, "--data-dir", d])).code).toBe(0);
      const dead = Bun.spawn(["true"]);
      await dead.exited;
      const lock = join(d, "_writer.lock");
      writeFileSync(
        lock,
        JSON.stringify({ pid: dead.pid, host: hostname(), started_at: Date.now(), command: "collect" }),
      );
      const r = await runCli(["collect", "--config", cfg, "--data-dir", d, "--duration", "1s"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`took over a stale lock ${lock}: pid ${dead.pid} on ${hostname()}`);
      expect(existsSync(lock)).toBe(false);

      writeFileSync(lock, JSON.stringify({ pid: 1, host: "elsewhere.example", started_at: 0, command: "collect" }));
      const o = await runCli(["collect", "--config", cfg, "--data-dir", d, "--duration", "1s"]);
      expect(o.code).toBe(1);
      expect(o.stderr).toContain("data dir in use by pid 1 on elsewhere.example since 1970-01-01T00:00:00Z");
      expect(existsSync(lock)).toBe(true); // not ours to remove
    },
    SLOW,
  );

  test("in-process: a live holder refuses, a reused pid (started after the lock) is stale, release removes only our lock", async () => {
    const d = join(dir, "unit");
    const first = acquireDataDirLock(d, { now: 1_000, command: "collect" });
    expect(() => acquireDataDirLock(d, { now: 2_000, command: "collect" })).toThrow(/data dir in use by pid/);
    first.release();
    writeFileSync(
      join(d, "_writer.lock"),
      JSON.stringify({ pid: 424242, host: hostname(), started_at: 1_000, command: "collect" }),
    );
    const notes: string[] = [];
    const probe = () => ({ alive: true, startedAt: 500 }); // alive and older than the lock: the holder
    expect(() => acquireDataDirLock(d, { now: 2_000, command: "collect", probe })).toThrow(/pid 424242/);
    const reused = () => ({ alive: true, startedAt: 60_000 }); // that pid now belongs to a newer process
    const second = acquireDataDirLock(d, {
      now: 2_000,
      command: "collect",
      probe: reused,
      onTakeover: (m) => notes.push(m),
    });
    expect(notes).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(d, "_writer.lock"), "utf8")).pid).toBe(process.pid);
    second.release();
    expect(existsSync(join(d, "_writer.lock"))).toBe(false);
  });
});
