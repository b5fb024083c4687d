/**
 * `--data-dir s3://BUCKET/PREFIX` for the readers (mine, status, verify): the bucket is listed with the [upload]
 * endpoint, region and credentials, the objects of the days asked for (and the manifest) are copied into a temp
 * directory, the command reads that like a local tree, and the copy is removed afterwards. The miner and the
 * checkers stay unaware of where the files came from, and give the same answers as over the local tree.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import { STAGING_DIR, UPLOAD_DIR } from "../layout.ts";
import { logger } from "../log.ts";
import { S3_URL } from "./config.ts";
import { openBucket, readCredentials } from "./s3.ts";
import { partsOf } from "./tree.ts";

const DAY_MS = 86_400_000;
const PARALLEL = 4;

export function isRemoteDir(dir: string): boolean {
  return dir.startsWith("s3://");
}

export interface DataDir extends AsyncDisposable {
  /** A local directory to read. */
  dir: string;
  /** What the user named (the s3:// URL, or the local dir), for messages. */
  name: string;
  /** A copy of a bucket (no upload ledger, nothing archived; the manifest may run ahead of the objects). */
  remote: boolean;
}

/**
 * The data dir to read: itself when local; for an s3:// URL, a temp copy of the keys whose `date=` partition falls
 * in [from, to) (every day when not given) plus the undated ones (the manifest), removed on dispose
 * (`await using d = await openDataDir(…)`).
 */
export async function openDataDir(
  config: Config,
  range: { from?: number; to?: number },
  env: Record<string, string | undefined> = process.env,
): Promise<DataDir> {
  const url = config.data_dir;
  if (!isRemoteDir(url)) return { dir: url, name: url, remote: false, [Symbol.asyncDispose]: async () => {} };
  if (!S3_URL.test(url)) throw new UserError(`--data-dir ${url}: not an s3://BUCKET/PREFIX URL`, 2);
  const bucket = openBucket(config.upload, readCredentials(config.upload, env, url), url);
  let keys: { rel: string; size: number }[];
  try {
    keys = await bucket.list("");
  } catch (e) {
    throw new UserError(
      `cannot list ${url}${config.upload.endpoint ? ` at ${config.upload.endpoint}` : ""}: ${(e as { code?: string }).code ?? ""} ${(e as Error).message}`,
      1,
      "Check [upload] endpoint/region and the credentials' ListBucket permission.",
    );
  }
  const fromDay = range.from === undefined ? "" : dayOf(range.from);
  const toDay = range.to === undefined ? "9999" : dayOf(range.to - 1);
  const wanted = keys.filter((k) => {
    if (k.rel.startsWith(`${STAGING_DIR}/`) || k.rel.startsWith(`${UPLOAD_DIR}/`) || k.rel.endsWith("/")) return false;
    // only keys that stay inside the temp copy
    if (k.rel.startsWith("/") || k.rel.split("/").some((p) => p === ".." || p === "." || p === "")) return false;
    const { date } = partsOf(k.rel);
    return date === undefined || (date >= fromDay && date <= toDay);
  });
  const dir = await mkdtemp(join(tmpdir(), "surveillance-s3-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const bytes = wanted.reduce((s, k) => s + k.size, 0);
    logger("s3").info(`reading ${wanted.length} object(s), ${(bytes / 1e6).toFixed(1)} MB, from ${url}`);
    let next = 0;
    const worker = async () => {
      while (next < wanted.length) {
        const k = wanted[next++];
        const dest = join(dir, k.rel);
        await mkdir(dirname(dest), { recursive: true });
        await Bun.write(dest, new Response(bucket.get(k.rel)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, wanted.length) }, worker));
  } catch (e) {
    await dispose();
    throw e;
  }
  return { dir, name: url, remote: true, [Symbol.asyncDispose]: dispose };
}

function dayOf(ts: number): string {
  return new Date(Math.floor(ts / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}
