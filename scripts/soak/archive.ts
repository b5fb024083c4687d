/**
 * The soak's object store and small disk: a loopback S3-protocol server behind a fault proxy (away for a window of
 * simulated time), a tmpfs data dir that nears its floor, and the end checks: every file the upload ledger verified
 * is byte-equal in the bucket, and every final file the disk guard deleted locally comes back from the bucket.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type FaultProxy, type S3Server, startFaultProxy, startS3 } from "../../tests/helpers/s3-server.ts";

export const S3_ENV = { SOAK_S3_KEY: "S3RVER", SOAK_S3_SECRET: "S3RVER" };
const PREFIX = "soak/box1";

export interface Archive {
  s3: S3Server;
  proxy: FaultProxy;
  dataDir: string;
  /** A tmpfs of this many MB holds the data dir (0: no mount could be made; a plain directory). */
  fsMb: number;
  upload: Record<string, unknown>;
  disk: Record<string, unknown>;
  close(): Promise<void>;
}

/** A tmpfs mount when this process may mount (root on Linux), else a plain temp dir. */
function smallDir(mb: number): { dir: string; mb: number; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "soak-days-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${mb}m`, "tmpfs", dir], { stderr: "pipe" });
  if (r.exitCode !== 0) return { dir, mb: 0, unmount: () => rmSync(dir, { recursive: true, force: true }) };
  return {
    dir,
    mb,
    unmount: () => {
      Bun.spawnSync(["umount", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startArchive(fsMb: number): Promise<Archive> {
  const s3 = await startS3("archive");
  const proxy = await startFaultProxy(s3.endpoint);
  const small = smallDir(fsMb);
  // Warn at 40% of the disk left, delete verified files below 25%: the tree outgrows the disk within the run.
  const gb = (share: number) => (small.mb * share) / 1024;
  return {
    s3,
    proxy,
    dataDir: small.dir,
    fsMb: small.mb,
    upload: {
      url: `s3://archive/${PREFIX}`,
      endpoint: proxy.endpoint,
      access_key_id_env: "SOAK_S3_KEY",
      secret_access_key_env: "SOAK_S3_SECRET",
      scan_secs: 30,
      retry_base_ms: 1000,
      retry_cap_ms: 120_000,
    },
    disk: small.mb
      ? { min_free_gb: gb(0.4), min_free_pct: 0, floor_free_gb: gb(0.25), floor_free_pct: 0, check_secs: 10 }
      : {},
    async close() {
      await proxy.close();
      await s3.close();
      small.unmount();
    },
  };
}

export interface ArchiveCheck {
  verified: number;
  /** Verified files whose bucket copy differs from the local file (or from the ledger's sha256 when deleted). */
  bucketDiffers: string[];
  /** Final files gone from the local tree (the disk guard), restored from the bucket for the row count. */
  deletedLocally: number;
  /** Gone locally but not verified in the ledger: deleted without a copy. */
  deletedUnverified: string[];
  /** The tree with the deleted files restored from the bucket (a plain temp dir; the caller removes it). */
  restoredDir: string;
}

interface LedgerLine {
  path: string;
  size: number;
  sha256: string;
}

/** Checks the bucket against the local tree and the ledger, and rebuilds the whole tree outside the small disk. */
export async function checkArchive(a: Archive, manifestPaths: string[]): Promise<ArchiveCheck> {
  const c = new Bun.S3Client({
    endpoint: a.s3.endpoint,
    bucket: a.s3.bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    region: "us-east-1",
  });
  const ledgerFile = join(a.dataDir, "_upload", "ledger.jsonl");
  const ledger = new Map<string, LedgerLine>();
  if (existsSync(ledgerFile))
    for (const line of readFileSync(ledgerFile, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as LedgerLine;
        ledger.set(e.path, e);
      } catch {
        // a torn last line: that file was not verified
      }
    }
  const restoredDir = mkdtempSync(join(tmpdir(), "soak-restored-"));
  cpSync(a.dataDir, restoredDir, { recursive: true });
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const bucketDiffers: string[] = [];
  for (const e of ledger.values()) {
    const local = join(a.dataDir, e.path);
    const remote = new Uint8Array(
      await c
        .file(`${PREFIX}/${e.path}`)
        .arrayBuffer()
        .catch(() => new ArrayBuffer(0)),
    );
    if (existsSync(local)) {
      const bytes = readFileSync(local);
      // An appended file (manifest, today's journal) may have grown since its verified copy: compare that prefix.
      if (bytes.length === e.size ? Buffer.compare(Buffer.from(remote), bytes) !== 0 : sha(remote) !== e.sha256)
        bucketDiffers.push(e.path);
    } else if (sha(remote) !== e.sha256) bucketDiffers.push(e.path);
  }
  let deletedLocally = 0;
  const deletedUnverified: string[] = [];
  for (const rel of manifestPaths) {
    if (existsSync(join(a.dataDir, rel))) continue;
    deletedLocally++;
    const e = ledger.get(rel);
    if (!e) {
      deletedUnverified.push(rel);
      continue;
    }
    const target = join(restoredDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    await Bun.write(target, await c.file(`${PREFIX}/${rel}`).arrayBuffer());
  }
  return { verified: ledger.size, bucketDiffers, deletedLocally, deletedUnverified, restoredDir };
}
