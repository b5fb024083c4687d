/**
 * The upload ledger, `<dataDir>/_upload/ledger.jsonl`: one fsynced JSON line per verified copy (path, size, mtime,
 * sha256, target URL). A restart reads it instead of listing the bucket; a file whose line is there (same target,
 * same size and mtime) is never uploaded again. A crash before the line is written just means that file goes again.
 */
import { ledgerPath, uploadDir } from "../layout.ts";
import { nodeFs, type StorageFs, writeAtomic } from "../storage/fs.ts";

export interface LedgerEntry {
  /** Relative to the data dir (and to the target's prefix), `/`-separated. */
  path: string;
  size: number;
  /** The local file's mtime when it was read: with the size, tells a replaced or appended file from the verified one. */
  mtime_ms: number;
  sha256: string;
  /** The target the copy is in (`s3://BUCKET/PREFIX`): a ledger line for another target does not count. */
  url: string;
  /** Injected-clock time of the verification, epoch ms. */
  verified_at: number;
}

export class Ledger {
  private readonly byPath = new Map<string, LedgerEntry>();
  private lines = 0;

  private constructor(
    private readonly dataDir: string,
    readonly url: string,
    private readonly fs: StorageFs,
  ) {}

  /** Loads the ledger (a torn last line is skipped); rewrites it compactly when most of its lines are superseded. */
  static async open(dataDir: string, url: string, fs: StorageFs = nodeFs): Promise<Ledger> {
    const l = new Ledger(dataDir, url, fs);
    for (const e of await readLedger(dataDir, fs)) {
      l.lines++;
      if (e.url === url) l.byPath.set(e.path, e);
    }
    if (l.lines > 1000 && l.lines > 2 * l.byPath.size) await l.compact();
    return l;
  }

  get(path: string): LedgerEntry | undefined {
    return this.byPath.get(path);
  }

  /** True when this exact version of the file (size and mtime) has a verified copy. */
  isVerified(path: string, size: number, mtimeMs: number): boolean {
    const e = this.byPath.get(path);
    return e !== undefined && e.size === size && e.mtime_ms === mtimeMs;
  }

  entries(): IterableIterator<LedgerEntry> {
    return this.byPath.values();
  }

  get size(): number {
    return this.byPath.size;
  }

  async record(e: Omit<LedgerEntry, "url">): Promise<void> {
    const entry: LedgerEntry = { ...e, url: this.url };
    await this.fs.mkdirp(uploadDir(this.dataDir));
    await this.fs.appendDurable(ledgerPath(this.dataDir), `${JSON.stringify(entry)}\n`);
    this.byPath.set(e.path, entry);
    this.lines++;
  }

  private async compact(): Promise<void> {
    const text = [...this.byPath.values()].map((e) => JSON.stringify(e)).join("\n");
    await writeAtomic(this.fs, ledgerPath(this.dataDir), [new TextEncoder().encode(text ? `${text}\n` : "")]);
    this.lines = this.byPath.size;
  }
}

/** Every parseable line of the ledger, in order (any target). */
export async function readLedger(dataDir: string, fs: StorageFs = nodeFs): Promise<LedgerEntry[]> {
  const p = ledgerPath(dataDir);
  if ((await fs.size(p)) === undefined) return [];
  const out: LedgerEntry[] = [];
  for (const line of new TextDecoder().decode(await fs.readFile(p)).split("\n")) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as LedgerEntry;
      if (typeof e.path === "string" && typeof e.size === "number" && typeof e.url === "string") out.push(e);
    } catch {
      // a torn last line after a crash: that file is simply uploaded again
    }
  }
  return out;
}

/**
 * The verified copies the ledger records, the last line per path, whatever the target: a file listed here and gone
 * from the local disk was deleted by retention or the disk guard after its upload, "archived", not lost.
 */
export async function verifiedCopies(dataDir: string, fs: StorageFs = nodeFs): Promise<Map<string, LedgerEntry>> {
  const out = new Map<string, LedgerEntry>();
  for (const e of await readLedger(dataDir, fs)) out.set(e.path, e);
  return out;
}
