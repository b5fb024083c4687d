/**
 * Which local files may be deleted, pure: only final files whose copy the ledger has verified (this exact version),
 * never the manifest, an appending journal day, the staging area, nor a venue's newest universe or stats file (the
 * next collect start schedules from them). Retention takes those older than keep_local_days; the disk guard takes
 * them oldest first until enough space is free.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Ledger } from "./ledger.ts";
import { type Candidate, type FileKind, isTempName, listOtherFiles, partsOf } from "./tree.ts";
import { DATASET_DIR } from "../layout.ts";

export interface LocalFile {
  rel: string;
  kind: FileKind;
  venue?: string;
  date?: string;
  size: number;
  mtimeMs: number;
  appending: boolean;
}

const DAY_MS = 86_400_000;

/** Every final file of the tree with its size and mtime (snapshot files by listing, not by the manifest). */
export async function listLocalFiles(dataDir: string, now: number): Promise<LocalFile[]> {
  const cands: Candidate[] = await listOtherFiles(dataDir, now);
  try {
    for await (const f of new Bun.Glob("venue=*/date=*/hour=*/*.parquet").scan({
      cwd: join(dataDir, DATASET_DIR),
      onlyFiles: true,
    })) {
      const rel = `${DATASET_DIR}/${f.split("\\").join("/")}`;
      if (isTempName(rel.slice(rel.lastIndexOf("/") + 1))) continue;
      cands.push({ rel, kind: "snapshot", ...partsOf(rel), appending: false });
    }
  } catch {
    // no dataset yet
  }
  const out: LocalFile[] = [];
  for (const c of cands) {
    try {
      const st = await stat(join(dataDir, c.rel));
      out.push({ ...c, size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Oldest first: by the `date=`/`hour=` partition, then by path. */
export function byAge(a: LocalFile, b: LocalFile): number {
  const ka = `${a.date ?? "9999"}/${hourOf(a.rel)}/${a.rel}`;
  const kb = `${b.date ?? "9999"}/${hourOf(b.rel)}/${b.rel}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
const hourOf = (rel: string) => /\/hour=(\d{2})\//.exec(rel)?.[1] ?? "00";

/** The files that may be deleted at all, oldest first. */
export function deletable(files: LocalFile[], ledger: Ledger | undefined): LocalFile[] {
  if (!ledger) return [];
  const newest = new Map<string, string>(); // kind/venue → newest date, for universe and stats
  for (const f of files) {
    if ((f.kind === "universe" || f.kind === "stats") && f.date) {
      const k = `${f.kind}/${f.venue}`;
      if (!newest.has(k) || f.date > newest.get(k)!) newest.set(k, f.date);
    }
  }
  return files
    .filter((f) => {
      if (f.kind === "manifest" || f.appending || !f.date) return false;
      if ((f.kind === "universe" || f.kind === "stats") && newest.get(`${f.kind}/${f.venue}`) === f.date) return false;
      return ledger.isVerified(f.rel, f.size, f.mtimeMs);
    })
    .sort(byAge);
}

/** Retention: deletable files whose date is more than `keepDays` whole days before today's (UTC). */
export function retentionVictims(
  files: LocalFile[],
  ledger: Ledger | undefined,
  now: number,
  keepDays: number,
): LocalFile[] {
  if (keepDays <= 0) return [];
  const cutoff = Math.floor(now / DAY_MS) * DAY_MS - keepDays * DAY_MS;
  return deletable(files, ledger).filter((f) => Date.parse(f.date!) < cutoff);
}

/**
 * Disk guard: deletable files whose sizes add up to at least `needBytes` (all of them if they do not), snapshot files
 * oldest first, and only then the rest oldest first: journal, universe and stats days are small, and status, mine and
 * the coverage figures read them locally.
 */
export function guardVictims(files: LocalFile[], ledger: Ledger | undefined, needBytes: number): LocalFile[] {
  const out: LocalFile[] = [];
  let freed = 0;
  const candidates = deletable(files, ledger);
  const ordered = [
    ...candidates.filter((f) => f.kind === "snapshot"),
    ...candidates.filter((f) => f.kind !== "snapshot"),
  ];
  for (const f of ordered) {
    if (freed >= needBytes) break;
    out.push(f);
    freed += f.size;
  }
  return out;
}
