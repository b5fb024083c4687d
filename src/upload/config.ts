/**
 * Config entries of [upload], [retention] and [disk]: valibot schemas, types and defaults, composed by src/config.ts.
 * Cross-key checks (floors below warnings, retry cap ≥ base) are here too; they report through the caller's refuse().
 */
import * as v from "valibot";

const posInt = (max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.number(),
    v.integer("must be an integer"),
    v.minValue(1, "must be ≥ 1"),
    v.maxValue(max, `must be ≤ ${max}`),
  );
const nonNegInt = () => v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be ≥ 0"));
const nonNeg = () => v.pipe(v.number(), v.minValue(0, "must be ≥ 0"));
const positive = () => v.pipe(v.number(), v.minValue(0.001, "must be > 0"));
const pct = () => v.pipe(v.number(), v.minValue(0, "must be ≥ 0"), v.maxValue(100, "must be ≤ 100"));
const envName = () => v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"));

/** `s3://BUCKET` or `s3://BUCKET/PREFIX` (bucket names per the S3 rules: 3–63 of a-z 0-9 . -). */
export const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(\S*))?$/;

export const uploadEntries = {
  url: v.pipe(
    v.string(),
    v.regex(/^$|^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/, 'must be "" (off) or s3://BUCKET/PREFIX'),
  ),
  endpoint: v.pipe(v.string(), v.regex(/^$|^https?:\/\/\S+$/, 'must be "" (AWS) or an http(s):// URL')),
  region: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  access_key_id_env: envName(),
  secret_access_key_env: envName(),
  session_token_env: v.pipe(
    v.string(),
    v.regex(/^$|^[A-Za-z_][A-Za-z0-9_]*$/, 'must be "" or an environment variable name'),
  ),
  virtual_hosted_style: v.boolean(),
  concurrency: posInt(64),
  scan_secs: posInt(86_400),
  mutable_upload_secs: posInt(86_400),
  part_size_mb: v.pipe(posInt(5120), v.minValue(5, "must be ≥ 5 (the S3 minimum part size)")),
  request_timeout_secs: positive(),
  retry_base_ms: posInt(),
  retry_cap_ms: posInt(),
  drain_secs: nonNeg(),
};
export interface UploadSettings {
  /** "" = off. */
  url: string;
  endpoint: string;
  region: string;
  access_key_id_env: string;
  secret_access_key_env: string;
  session_token_env: string;
  virtual_hosted_style: boolean;
  concurrency: number;
  scan_secs: number;
  mutable_upload_secs: number;
  part_size_mb: number;
  request_timeout_secs: number;
  retry_base_ms: number;
  retry_cap_ms: number;
  drain_secs: number;
}
export const UPLOAD_DEFAULTS: UploadSettings = {
  url: "",
  endpoint: "",
  region: "us-east-1",
  access_key_id_env: "AWS_ACCESS_KEY_ID",
  secret_access_key_env: "AWS_SECRET_ACCESS_KEY",
  session_token_env: "",
  virtual_hosted_style: false,
  concurrency: 2,
  scan_secs: 30,
  mutable_upload_secs: 300,
  part_size_mb: 16,
  request_timeout_secs: 300,
  retry_base_ms: 1000,
  retry_cap_ms: 300_000,
  drain_secs: 60,
};

export const retentionEntries = { keep_local_days: nonNegInt() };
export interface RetentionSettings {
  /** 0 = keep forever. */
  keep_local_days: number;
}
export const RETENTION_DEFAULTS: RetentionSettings = { keep_local_days: 0 };

export const diskEntries = {
  min_free_gb: nonNeg(),
  min_free_pct: pct(),
  floor_free_gb: nonNeg(),
  floor_free_pct: pct(),
  check_secs: posInt(3600),
};
export interface DiskSettings {
  /** Below max(min_free_gb, min_free_pct % of the disk): a loud warning, and the gauge says so. */
  min_free_gb: number;
  min_free_pct: number;
  /** Below max(floor_free_gb, floor_free_pct %): verified-uploaded files are deleted, oldest first. */
  floor_free_gb: number;
  floor_free_pct: number;
  check_secs: number;
}
export const DISK_DEFAULTS: DiskSettings = {
  min_free_gb: 10,
  min_free_pct: 5,
  floor_free_gb: 2,
  floor_free_pct: 1,
  check_secs: 10,
};

type Refuse = (key: string, value: unknown, reason: string) => never;

export function checkUpload(u: UploadSettings, refuse: Refuse): void {
  if (u.retry_cap_ms < u.retry_base_ms)
    refuse("upload.retry_cap_ms", u.retry_cap_ms, `must be ≥ upload.retry_base_ms (${u.retry_base_ms})`);
}

export function checkDisk(d: DiskSettings, refuse: Refuse): void {
  if (d.floor_free_gb > d.min_free_gb)
    refuse("disk.floor_free_gb", d.floor_free_gb, `must be ≤ disk.min_free_gb (${d.min_free_gb})`);
  if (d.floor_free_pct > d.min_free_pct)
    refuse("disk.floor_free_pct", d.floor_free_pct, `must be ≤ disk.min_free_pct (${d.min_free_pct})`);
}

/** Bucket and key prefix of an `s3://BUCKET/PREFIX` URL; the prefix has no leading slash and ends with "/" unless empty. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = S3_URL.exec(url);
  if (!m) throw new Error(`not an s3://BUCKET/PREFIX URL: ${url}`);
  const p = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
  return { bucket: m[1], prefix: p ? `${p}/` : "" };
}
