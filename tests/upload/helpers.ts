/** Shared by the upload tests: a config with upload on, the local final files, and the bucket's objects read back. */
import { afterAll, beforeAll } from "bun:test";
import { consola } from "consola";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type Config } from "../../src/config.ts";
import { type FaultProxy, type S3Server, startFaultProxy, startS3 } from "../helpers/s3-server.ts";

export const CREDS = { TEST_S3_KEY: "S3RVER", TEST_S3_SECRET: "S3RVER" };

export function uploadConfig(
  dir: string,
  endpoint: string,
  bucket: string,
  extra: Record<string, unknown> = {},
): Config {
  const { upload, ...rest } = extra as { upload?: Record<string, unknown> };
  return parseConfig({
    data_dir: dir,
    top_k: 5,
    writer: { bucket_minutes: 5, flush_secs: 5 },
    collector: { max_subs_per_venue: 20, hot_count: 4, subscription_churn_limit_per_minute: 40 },
    venues: { mock: { universe_size: 60, seed: 3, updates_per_sec: 2 } },
    upload: {
      url: `s3://${bucket}/rec/box1`,
      endpoint,
      access_key_id_env: "TEST_S3_KEY",
      secret_access_key_env: "TEST_S3_SECRET",
      retry_base_ms: 1000,
      retry_cap_ms: 60_000,
      ...upload,
    },
    ...rest,
  });
}

/**
 * Every file of the data tree that should be in the bucket, by its own rules (not the uploader's): everything but
 * the staging area, the upload ledger, the writer's lock and hidden temp files.
 */
export function localFinalFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === "_staging" || r === "_upload" || r === "_writer.lock" || name.startsWith(".")) continue;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk("");
  return out.sort();
}

export function client(endpoint: string, bucket: string): Bun.S3Client {
  return new Bun.S3Client({ endpoint, bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", region: "us-east-1" });
}

export async function bucketKeys(c: Bun.S3Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.list({ prefix, continuationToken: token });
    for (const o of r.contents ?? []) keys.push(o.key.slice(prefix.length));
    token = r.isTruncated ? r.nextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function sameBytes(c: Bun.S3Client, key: string, file: string): Promise<boolean> {
  const remote = new Uint8Array(await c.file(key).arrayBuffer());
  const local = readFileSync(file);
  return remote.length === local.length && Buffer.compare(Buffer.from(remote), local) === 0;
}

export interface S3Fixture {
  s3: S3Server;
  proxy: FaultProxy;
  /** A fresh temp dir, removed after the file's tests. */
  freshDir(): Promise<string>;
}

/** s3rver and the fault proxy in front of it for one test file (started before its tests, stopped after), logs off. */
export function s3Fixture(prefix: string): S3Fixture {
  const dirs: string[] = [];
  const fx = {
    async freshDir() {
      const d = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  } as S3Fixture;
  beforeAll(async () => {
    consola.level = 0;
    fx.s3 = await startS3();
    fx.proxy = await startFaultProxy(fx.s3.endpoint);
  });
  afterAll(async () => {
    consola.level = 3;
    await fx.proxy.close();
    await fx.s3.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  return fx;
}
