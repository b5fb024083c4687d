/**
 * Upload state of a local data dir, for `status`: per venue, snapshot files verified in the bucket vs pending (from
 * the manifest and the ledger), the newest verification, the lag, how far the copy is complete, and the uploader's
 * last failure (`_upload/last-error.json`, present while failures last).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readManifest } from "../storage/manifest.ts";
import { type LastError, readLastError } from "./last-error.ts";
import { readLedger } from "./ledger.ts";

export interface VenueUploadState {
  venue: string;
  uploaded_files: number;
  /** Listed in the manifest, on disk, no verified copy (of the listed size) in the target. */
  pending_files: number;
  /** Every snapshot bucket before this time (ISO) is verified in the bucket. */
  complete_up_to: string | null;
  /** The newest verification of one of the venue's snapshot files (ISO), null before the first. */
  last_verified_at: string | null;
  /** How long the oldest pending file has waited since it was finalized, seconds (0 when none is pending). */
  lag_seconds: number;
}

export interface UploadStatus {
  url: string;
  venues: VenueUploadState[];
  /** The uploader's last failure since its last success, or null. */
  last_error: LastError | null;
}

/** Per venue (all of them, or those named), over every day of the manifest, as of `now` (epoch ms). */
export async function uploadStatus(
  dataDir: string,
  url: string,
  now: number,
  venues?: string[],
): Promise<UploadStatus> {
  const verified = new Map<string, { size: number; at: number }>();
  for (const e of await readLedger(dataDir))
    if (e.url === url) verified.set(e.path, { size: e.size, at: e.verified_at });
  interface Acc {
    up: number;
    pending: number;
    firstPending: number;
    lastEnd: number;
    lastVerified: number;
    oldestWritten: number;
  }
  const byVenue = new Map<string, Acc>();
  for (const e of (await readManifest(dataDir)).entries) {
    if (venues?.length && !venues.includes(e.venue)) continue;
    let v = byVenue.get(e.venue);
    if (!v)
      byVenue.set(
        e.venue,
        (v = {
          up: 0,
          pending: 0,
          firstPending: Infinity,
          lastEnd: -Infinity,
          lastVerified: -Infinity,
          oldestWritten: Infinity,
        }),
      );
    const copy = verified.get(e.path);
    if (copy?.size === e.bytes) {
      v.up++;
      v.lastEnd = Math.max(v.lastEnd, e.bucket_start + e.bucket_minutes * 60_000);
      v.lastVerified = Math.max(v.lastVerified, copy.at);
    } else if (existsSync(join(dataDir, e.path))) {
      // gone without a copy: lost, not pending (verify reports it missing)
      v.pending++;
      v.firstPending = Math.min(v.firstPending, e.bucket_start);
      v.oldestWritten = Math.min(v.oldestWritten, e.written_at);
    }
  }
  const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : null);
  return {
    url,
    last_error: await readLastError(dataDir),
    venues: [...byVenue.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([venue, v]) => ({
        venue,
        uploaded_files: v.up,
        pending_files: v.pending,
        complete_up_to: iso(v.pending > 0 ? v.firstPending : v.lastEnd),
        last_verified_at: iso(v.lastVerified),
        lag_seconds: v.pending > 0 ? Math.max(0, Math.round((now - v.oldestWritten) / 1000)) : 0,
      })),
  };
}

/** One line per venue: `upload mock: 3 pending, 120 verified (last 12:05:00Z), lag 4m10s; last error …`. */
export function formatUploadStatus(u: UploadStatus): string[] {
  const err = u.last_error;
  const errText = err
    ? `; last error ${err.code} (${err.class}) at ${err.at}, ${err.count} failed attempt(s): ${err.message}`
    : "";
  if (u.venues.length === 0) return [`upload to ${u.url}: nothing listed yet${errText}`];
  return u.venues.map(
    (v) =>
      `upload ${v.venue} to ${u.url}: ${v.pending_files} pending, ${v.uploaded_files} verified (last ${v.last_verified_at ?? "never"}), lag ${duration(v.lag_seconds)}${v.complete_up_to ? `, complete up to ${v.complete_up_to}` : ""}${errText}`,
  );
}

function duration(secs: number): string {
  if (secs < 60) return `${secs}s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s`;
  return `${Math.floor(secs / 3600)}h${String(Math.floor((secs % 3600) / 60)).padStart(2, "0")}m`;
}
