/**
 * Upload state of a local data dir, for `status`: per venue, snapshot files verified in the bucket vs pending (from
 * the manifest and the ledger), how far the copy is complete, and the uploader's last error (`_upload/last-error.json`,
 * written by the uploader while failures last).
 */
import { lastErrorPath } from "../layout.ts";
import { readManifest } from "../storage/manifest.ts";
import { readLedger } from "./ledger.ts";

export interface VenueUploadState {
  venue: string;
  uploaded_files: number;
  pending_files: number;
  /** Every snapshot bucket before this time (ISO) is verified in the bucket. */
  complete_up_to: string | null;
  last_error: string | null;
}

export async function uploadStatus(dataDir: string, url: string): Promise<VenueUploadState[]> {
  const verified = new Map<string, number>();
  for (const e of await readLedger(dataDir)) if (e.url === url) verified.set(e.path, e.size);
  const lastError = await readLastError(dataDir);
  const byVenue = new Map<string, { up: number; pending: number; firstPending: number; lastEnd: number }>();
  for (const e of (await readManifest(dataDir)).entries) {
    let v = byVenue.get(e.venue);
    if (!v) byVenue.set(e.venue, (v = { up: 0, pending: 0, firstPending: Infinity, lastEnd: -Infinity }));
    const end = e.bucket_start + e.bucket_minutes * 60_000;
    if (verified.get(e.path) === e.bytes) {
      v.up++;
      v.lastEnd = Math.max(v.lastEnd, end);
    } else {
      v.pending++;
      v.firstPending = Math.min(v.firstPending, e.bucket_start);
    }
  }
  return [...byVenue.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([venue, v]) => {
      const upTo = v.pending > 0 ? v.firstPending : v.lastEnd;
      return {
        venue,
        uploaded_files: v.up,
        pending_files: v.pending,
        complete_up_to: Number.isFinite(upTo) && (v.up > 0 || v.pending > 0) ? new Date(upTo).toISOString() : null,
        last_error: lastError,
      };
    });
}

async function readLastError(dataDir: string): Promise<string | null> {
  const f = Bun.file(lastErrorPath(dataDir));
  if (!(await f.exists())) return null;
  try {
    const j = (await f.json()) as { error?: string; at?: string };
    return j.error ? `${j.error}${j.at ? ` (at ${j.at})` : ""}` : null;
  } catch {
    return null;
  }
}
