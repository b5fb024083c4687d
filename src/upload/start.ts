/**
 * What `collect` starts besides the collector: the uploader (when upload.url is set). Credentials are checked by
 * prepare() before anything is opened; start() after the writer, stop() after the writer has finalized.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { Ledger } from "./ledger.ts";
import { type Bucket, openBucket, readCredentials } from "./s3.ts";
import { Uploader } from "./uploader.ts";

export interface DataOffBox {
  uploader?: Uploader;
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
): Promise<DataOffBox> {
  const log = logger("upload");
  let uploader: Uploader | undefined;
  if (bucket) {
    const ledger = await Ledger.open(config.data_dir, bucket.url);
    uploader = new Uploader({ dataDir: config.data_dir, settings: config.upload, bucket, ledger, clock, metrics });
    uploader.start();
    log.info(
      `uploading final files to ${bucket.url}${config.upload.endpoint ? ` at ${config.upload.endpoint}` : ""} (${ledger.size} verified before)`,
    );
  }
  return {
    uploader,
    async stop() {
      if (uploader) {
        log.info(`draining uploads for at most ${config.upload.drain_secs} s…`);
        await uploader.drain(config.upload.drain_secs * 1000);
      }
    },
  };
}
