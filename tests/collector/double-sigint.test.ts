/**
 * Ctrl-C twice: the first says how to exit now, the second exits at once while finalization is failing (the dataset
 * directory is blocked by a file), leaving staging intact; the next start recovers every staged row.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finalRows, glob, LIVE_MOCK_TOML, spawnCollect } from "../helpers/live-collect.ts";
import { runCli } from "../helpers/run-cli.ts";

let dir: string;
let cfg: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sigint2-"));
  cfg = join(dir, "test.toml");
  await Bun.write(cfg, LIVE_MOCK_TOML);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Rows in a staged segment, from its trailer: ... JSON trailer, u32 LE trailer length, 8-byte magic "SVSEG001". */
function segmentRows(path: string): number {
  const b = readFileSync(path);
  expect(b.subarray(b.length - 8).toString()).toBe("SVSEG001");
  const len = b.readUInt32LE(b.length - 12);
  return JSON.parse(b.subarray(b.length - 12 - len, b.length - 12).toString()).rows;
}

async function readUntil(
  reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> },
  acc: { text: string },
  needle: string,
) {
  const deadline = performance.now() + 30_000;
  while (!acc.text.includes(needle)) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for "${needle}" in: ${acc.text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`stderr ended before "${needle}": ${acc.text}`);
    acc.text += new TextDecoder().decode(value);
  }
}

test("a second SIGINT exits at once (130) during a failing finalization; nothing staged is lost after a restart", async () => {
  const d = join(dir, "data");
  expect((await runCli(["scan", "--config", cfg, "--data-dir", d])).code).toBe(0);
  // Final files cannot be written: the dataset directory's name is taken by a file. Staging still works.
  writeFileSync(join(d, "orderbook_snapshots"), "in the way\n");
  const proc = spawnCollect(cfg, d, "1h");
  const reader = proc.stderr.getReader();
  const err = { text: "" };
  await readUntil(reader, err, "collecting mock");
  const deadline = performance.now() + 30_000;
  while (glob(d, "_staging/**/*.arrows").length === 0 && performance.now() < deadline) await Bun.sleep(50);

  proc.kill("SIGINT");
  await readUntil(reader, err, "press Ctrl-C again to exit now (staged rows are recovered at the next start)");
  await readUntil(reader, err, "close: attempt 1 failed"); // finalization is stuck in its retry window
  proc.kill("SIGINT");
  const code = await proc.exited;
  for (let r = await reader.read(); !r.done; r = await reader.read()) err.text += new TextDecoder().decode(r.value);
  expect(code).toBe(130); // today the second SIGINT is ignored for the whole 60 s retry budget
  expect(err.text).toContain("exiting now without finalizing");

  const staged = glob(d, "_staging/**/*.arrows");
  expect(staged.length).toBeGreaterThan(0);
  const stagedRows = staged.reduce((n, f) => n + segmentRows(join(d, f)), 0);
  expect(stagedRows).toBeGreaterThan(0);
  expect(existsSync(join(d, "_writer.lock"))).toBe(false); // released on the way out

  rmSync(join(d, "orderbook_snapshots"));
  const again = await runCli(["collect", "--config", cfg, "--data-dir", d, "--duration", "1s"]);
  expect(again.code).toBe(0);
  const second = Number(/^mock: (\d+) snapshots/m.exec(again.stdout)?.[1]);
  expect(finalRows(d)).toBe(stagedRows + second);
  expect(glob(d, "_staging/**/*.arrows")).toEqual([]);
}, 120_000);
