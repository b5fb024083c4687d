/**
 * `_upload/last-error.json`: the uploader's last failure (class, code, message with secrets redacted, time, failed
 * attempts since the last success), written on each failure and removed after the next success; `status` reads it.
 */
import { unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { lastErrorPath } from "../layout.ts";
import { redact } from "../log.ts";
import { nodeFs, writeAtomic } from "../storage/fs.ts";

export type FailureClass = "auth" | "network" | "server" | "verify" | "config" | "other";

export interface LastError {
  /** What kind of trouble: credentials/permissions, the network, the endpoint, a copy that did not verify, the target. */
  class: FailureClass;
  /** The S3 error code or error name: the `code` label of the upload error counter. */
  code: string;
  /** The error's message, registered secrets replaced by "[redacted]". */
  message: string;
  /** The file whose upload failed, relative to the data dir. */
  file: string;
  /** When (the uploader's clock), ISO and epoch ms. */
  at: string;
  at_ms: number;
  /** Failed attempts since the last success. */
  count: number;
}

const AUTH = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AllAccessDisabled",
  "AccountProblem",
  "Forbidden",
]);
const CONFIG = new Set([
  "NoSuchBucket",
  "InvalidBucketName",
  "PermanentRedirect",
  "AuthorizationHeaderMalformed",
  "InvalidRequest",
]);
const SERVER = new Set(["InternalError", "ServiceUnavailable", "SlowDown", "BadGateway", "GatewayTimeout"]);

/** The class of an error code (errorClass's output). */
export function failureClass(code: string): FailureClass {
  if (AUTH.has(code)) return "auth";
  if (CONFIG.has(code)) return "config";
  if (SERVER.has(code) || /^5\d\d$/.test(code)) return "server";
  if (code === "VerifyMismatch") return "verify";
  if (/^E[A-Z0-9]+$|Connection|Socket|Timeout|Timed|Network|DNS|Refused|Reset/i.test(code)) return "network";
  return "other";
}

export async function writeLastError(dataDir: string, e: LastError): Promise<void> {
  const p = lastErrorPath(dataDir);
  await nodeFs.mkdirp(dirname(p));
  const body = { ...e, message: redact(e.message), file: redact(e.file) };
  await writeAtomic(nodeFs, p, [new TextEncoder().encode(`${JSON.stringify(body)}\n`)]);
}

export async function clearLastError(dataDir: string): Promise<void> {
  await unlink(lastErrorPath(dataDir)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
}

/** The last failure, or null when there is none (or the file does not parse). */
export async function readLastError(dataDir: string): Promise<LastError | null> {
  const f = Bun.file(lastErrorPath(dataDir));
  if (!(await f.exists())) return null;
  try {
    const j = (await f.json()) as LastError;
    return typeof j.code === "string" && typeof j.at === "string" ? j : null;
  } catch {
    return null;
  }
}
