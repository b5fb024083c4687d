/**
 * The bucket side: an `s3://BUCKET/PREFIX` target on Bun's built-in S3 client, credentials read from the environment
 * variables the config names (values registered as secrets, never logged), and the few object operations we use.
 */
import { UserError } from "../errors.ts";
import { registerSecret } from "../log.ts";
import { parseS3Url, type UploadSettings } from "./config.ts";

export interface RemoteStat {
  size: number;
  /** Without quotes. A single-part PUT's ETag is the MD5 of the body on AWS (SSE-S3), R2 and MinIO; a multipart one is not. */
  etag: string;
}

/** What the uploader and the readers need of a bucket (keys are relative to the target's prefix). */
export interface Bucket {
  readonly url: string;
  put(rel: string, body: Blob): Promise<void>;
  stat(rel: string): Promise<RemoteStat | undefined>;
  /** The object's bytes as a stream. */
  get(rel: string): ReadableStream<Uint8Array>;
  /** Bytes [start, end) of the object. */
  range(rel: string, start: number, end: number): Promise<Uint8Array>;
  /** Every key under `relPrefix` (relative to the target's prefix), with sizes. */
  list(relPrefix: string): Promise<{ rel: string; size: number }[]>;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Reads the credentials from the named environment variables. Missing ones are refused naming the variables (and
 * the config keys naming them), exit 2, before anything is opened.
 */
export function readCredentials(
  u: UploadSettings,
  env: Record<string, string | undefined>,
  /** The `--data-dir s3://…` a reader reads (undefined: the uploader's upload.url). */
  reading?: string,
): S3Credentials {
  const get = (name: string) => {
    const val = env[name];
    return val === undefined || val === "" ? undefined : val;
  };
  const accessKeyId = get(u.access_key_id_env);
  const secretAccessKey = get(u.secret_access_key_env);
  const sessionToken = u.session_token_env ? get(u.session_token_env) : undefined;
  const missing: string[] = [];
  if (!accessKeyId) missing.push(`${u.access_key_id_env} (upload.access_key_id_env)`);
  if (!secretAccessKey) missing.push(`${u.secret_access_key_env} (upload.secret_access_key_env)`);
  if (u.session_token_env && !sessionToken) missing.push(`${u.session_token_env} (upload.session_token_env)`);
  if (missing.length > 0)
    throw new UserError(
      `${reading ? `--data-dir ${reading}` : `upload.url = ${u.url}`}: the bucket credentials are not set: environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing or empty`,
      2,
      reading
        ? "Export them; the names (and endpoint, region) come from the config's [upload] section."
        : 'Export them (systemd: EnvironmentFile=), or set upload.url = "" to record without uploading.',
    );
  for (const s of [accessKeyId!, secretAccessKey!, sessionToken]) if (s) registerSecret(s);
  return { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, sessionToken };
}

/** The configured target as a Bucket; `url` may differ from the config's (reading `--data-dir s3://…`). */
export function openBucket(u: UploadSettings, creds: S3Credentials, url = u.url): Bucket {
  const { bucket, prefix } = parseS3Url(url);
  const client = new Bun.S3Client({
    bucket,
    region: u.region,
    endpoint: u.endpoint || undefined,
    virtualHostedStyle: u.virtual_hosted_style,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    partSize: u.part_size_mb * 1024 * 1024,
    queueSize: 2,
    // Our own backoff retries (on the injected clock, with jitter); the client's immediate retries would only hide errors.
    retry: 0,
  });
  const key = (rel: string) => prefix + rel;
  return {
    url,
    async put(rel, body) {
      await client.write(key(rel), body, { type: "application/octet-stream" });
    },
    async stat(rel) {
      try {
        const s = await client.stat(key(rel));
        return { size: s.size, etag: s.etag.replace(/^W\//, "").replace(/"/g, "") };
      } catch (e) {
        if ((e as { code?: string }).code === "NoSuchKey" || (e as { code?: string }).code === "NotFound")
          return undefined;
        throw e;
      }
    },
    get: (rel) => client.file(key(rel)).stream(),
    async range(rel, start, end) {
      return new Uint8Array(await client.file(key(rel)).slice(start, end).arrayBuffer());
    },
    async list(relPrefix) {
      const out: { rel: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const r = await client.list({ prefix: key(relPrefix), continuationToken: token, maxKeys: 1000 });
        for (const c of r.contents ?? []) out.push({ rel: c.key.slice(prefix.length), size: c.size ?? 0 });
        token = r.isTruncated ? r.nextContinuationToken : undefined;
      } while (token);
      return out;
    },
  };
}

/** A short, label-safe class for a failure: the S3 error code ("AccessDenied", "InternalError", "ConnectionRefused" …). */
export function errorClass(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const raw = typeof code === "string" && code ? code : (e as Error)?.name || "Error";
  return raw.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 40);
}
