/**
 * What `collect` starts besides the collector: the uploader (when upload.url is set) and the disk guard with local
 * retention. Credentials are checked by prepareBucket() before anything is opened; start after the writer, stop
 * after the writer has finalized.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { DiskGuard, type FreeSpaceProbe } from "./disk-guard.ts";
import { Ledger } from "./ledger.ts";
import { type Bucket, openBucket, readCredentials } from "./s3.ts";
import { Uploader } from "./uploader.ts";

export interface DataOffBox {
  uploader?: Uploader;
  guard: DiskGuard;
  /** Drains the uploader for at most upload.drain_secs, then stops everything. */
  stop(): Promise<void>;
}

/** Refuses missing credentials (exit 2, naming the variables); undefined when upload is off. */
export function prepareBucket(config: Config, env: Record<string, string | undefined>): Bucket | undefined {
  if (!config.upload.url) return undefined;
  return openBucket(config.upload, readCredentials(config.upload, env));
}

export async function startDataOffBox(
  config: Config,
  bucket: Bucket | undefined,
  clock: Clock,
  metrics: Metrics,
  probe?: FreeSpaceProbe,
): Promise<DataOffBox> {
  const log = logger("upload");
  let uploader: Uploader | undefined;
  let ledger: Ledger | undefined;
  if (bucket) {
    ledger = await Ledger.open(config.data_dir, bucket.url);
    uploader = new Uploader({ dataDir: config.data_dir, settings: config.upload, bucket, ledger, clock, metrics });
    uploader.start();
    log.info(
      `uploading final files to ${bucket.url}${config.upload.endpoint ? ` at ${config.upload.endpoint}` : ""} (${ledger.size} verified before)`,
    );
  }
  const guard = new DiskGuard({
    dataDir: config.data_dir,
    disk: config.disk,
    retention: config.retention,
    ledger,
    clock,
    metrics,
    probe,
  });
  guard.start();
  return {
    uploader,
    guard,
    async stop() {
      await guard.stop();
      if (uploader) {
        log.info(`draining uploads for at most ${config.upload.drain_secs} s…`);
        await uploader.drain(config.upload.drain_secs * 1000);
      }
    },
  };
}
