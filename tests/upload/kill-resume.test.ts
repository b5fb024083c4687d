/**
 * The real CLI, SIGKILLed while an upload is in flight (held by the fault proxy), then started again: every file
 * ends up verified exactly once in the ledger, and nothing the ledger had verified before the kill is written to
 * the bucket again (s3rver's own write events are the oracle).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, runCli } from "../helpers/run-cli.ts";
import { type FaultProxy, type S3Server, startFaultProxy, startS3 } from "../helpers/s3-server.ts";
import { waitFor } from "../helpers/wait.ts";
import { bucketKeys, client, CREDS, localFinalFiles, sameBytes } from "./helpers.ts";

let s3: S3Server;
let proxy: FaultProxy;
let dir: string;

beforeAll(async () => {
  s3 = await startS3();
  proxy = await startFaultProxy(s3.endpoint);
  dir = await mkdtemp(join(tmpdir(), "upload-kill-"));
});
afterAll(async () => {
  await proxy.close();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

const ledgerLines = (): { path: string; size: number }[] => {
  try {
    return readFileSync(join(dir, "data/_upload/ledger.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      });
  } catch {
    return [];
  }
};

test("SIGKILL mid-upload, restart: every file verified exactly once, nothing verified uploaded again", async () => {
  const cfg = join(dir, "surveillance.toml");
  await Bun.write(
    cfg,
    `data_dir = "${dir}/data"
top_k = 5
[collector]
max_subs_per_venue = 20
hot_count = 4
subscription_churn_limit_per_minute = 40
[venues.mock]
universe_size = 60
seed = 5
[upload]
url = "s3://${s3.bucket}/kill"
endpoint = "${proxy.endpoint}"
access_key_id_env = "TEST_S3_KEY"
secret_access_key_env = "TEST_S3_SECRET"
request_timeout_secs = 120
retry_cap_ms = 30000
# The manifest and today's journal are copied at start and at a stop, not every 300 s: otherwise, with both upload
# slots held by their stalled copies for request_timeout_secs, no snapshot PUT can be in flight in time (seen on a
# loaded machine, the stalled requests being the journal's and the manifest's).
mutable_upload_secs = 86400
`,
  );
  const env = { ...CREDS, NO_COLOR: "1" };
  expect((await runCli(["scan", "--config", cfg], { env })).code).toBe(0);

  proxy.set("pass");
  const first = Bun.spawn(["bun", join(REPO, "bin/surveillance.ts"), "collect", "--config", cfg, "--duration", "24h"], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "ignore",
  });
  await waitFor(
    () => ledgerLines().filter((e) => e.path.startsWith("orderbook_snapshots/")).length >= 2,
    "2 verified files",
    150_000,
  );
  proxy.set("stall");
  const heldPut = () =>
    proxy.stalledRequests().find((r) => r.startsWith(`PUT /${s3.bucket}/kill/orderbook_snapshots/`));
  await waitFor(() => heldPut() !== undefined, "a snapshot file's PUT in flight", 150_000);
  const held = heldPut()!;
  first.kill("SIGKILL");
  await first.exited;

  const before = ledgerLines();
  const writesBefore = s3.writes.length;
  const heldKey = decodeURIComponent(held.split(" ")[1].split("?")[0]).replace(`/${s3.bucket}/kill/`, "");
  expect(before.some((e) => e.path === heldKey)).toBe(false); // it was in flight: not verified

  proxy.set("pass");
  const second = await runCli(["collect", "--config", cfg, "--duration", "20m"], { env });
  expect(second.code).toBe(0);

  const after = ledgerLines();
  const data = join(dir, "data");
  const local = localFinalFiles(data);
  const c = client(s3.endpoint, s3.bucket);
  expect(await bucketKeys(c, "kill/")).toEqual(local);
  for (const f of local) expect(await sameBytes(c, `kill/${f}`, join(data, f))).toBe(true);

  // Snapshot files never change: each has exactly one ledger line, the held one included.
  const snaps = local.filter((f) => f.startsWith("orderbook_snapshots/"));
  for (const f of snaps) expect(after.filter((e) => e.path === f).length).toBe(1);
  expect(snaps).toContain(heldKey);
  // Nothing verified before the kill was written again after the restart.
  const rewritten = s3.writes.slice(writesBefore).map((k) => k.replace(/^kill\//, ""));
  const verifiedBefore = new Set(before.filter((e) => e.path.startsWith("orderbook_snapshots/")).map((e) => e.path));
  expect(rewritten.filter((k) => verifiedBefore.has(k))).toEqual([]);
  expect(rewritten).toContain(heldKey);
}, 400_000);
