/**
 * The file operations the snapshot store needs, behind one interface so tests can inject EACCES/ENOSPC/EIO
 * (we run as root, where chmod does not stop a write). Every durable write is temp → fsync → rename → fsync(dir).
 */
import * as fsp from "node:fs/promises";
import { dirname } from "node:path";

export interface WriteHandle {
  write(b: Uint8Array): Promise<void>;
  /** fsync + close. */
  commit(): Promise<void>;
  /** close without sync (on failure). */
  abort(): Promise<void>;
}

export interface StorageFs {
  mkdirp(dir: string): Promise<void>;
  /** Creates (truncates) `path` for streaming writes. */
  create(path: string): Promise<WriteHandle>;
  rename(from: string, to: string): Promise<void>;
  /** fsync a directory so a rename in it survives power loss. */
  syncDir(dir: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmrf(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` (fewer only at end of file), into `into` when given (it must be large enough). */
  readRange(path: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Names in `dir`, [] when it does not exist. */
  readdir(dir: string): Promise<string[]>;
  /** Size in bytes, undefined when missing. */
  size(path: string): Promise<number | undefined>;
  isDir(path: string): Promise<boolean>;
  /** Appends and fsyncs (the manifest). */
  appendDurable(path: string, text: string): Promise<void>;
}

export const nodeFs: StorageFs = {
  async mkdirp(dir) {
    await fsp.mkdir(dir, { recursive: true });
  },
  async create(path) {
    const fh = await fsp.open(path, "w");
    return {
      async write(b) {
        let off = 0;
        while (off < b.length) {
          const { bytesWritten } = await fh.write(b, off, b.length - off);
          off += bytesWritten;
        }
      },
      async commit() {
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      },
      async abort() {
        await fh.close().catch(() => {});
      },
    };
  },
  rename: (a, b) => fsp.rename(a, b),
  async syncDir(dir) {
    const fh = await fsp.open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  unlink: (p) => fsp.unlink(p),
  rmrf: (p) => fsp.rm(p, { recursive: true, force: true }),
  readFile: async (p) => new Uint8Array(await fsp.readFile(p)),
  async readRange(p, offset, length, into) {
    const fh = await fsp.open(p, "r");
    try {
      const buf = into ? into.subarray(0, length) : new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  },
  async readdir(dir) {
    try {
      return await fsp.readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  },
  async size(p) {
    try {
      return (await fsp.stat(p)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  },
  async isDir(p) {
    try {
      return (await fsp.stat(p)).isDirectory();
    } catch {
      return false;
    }
  },
  async appendDurable(path, text) {
    const fh = await fsp.open(path, "a+");
    try {
      // A crash mid-append leaves a torn last line: start on a fresh line so the next record is not glued to it.
      const { size } = await fh.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) text = "\n" + text;
      }
      await fh.write(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

/**
 * A write handle that gathers small chunks (page headers, part heads: a segment is hundreds of them) into one
 * buffer of at most `size` bytes and writes it whole; chunks at least half that size go straight through. The
 * buffer grows with what it holds, so a small file (a marker, a short segment) does not cost a megabyte.
 */
export function coalesced(h: WriteHandle, size = 1 << 20): WriteHandle {
  let buf = new Uint8Array(0);
  let n = 0;
  const drain = async () => {
    if (n > 0) {
      const len = n;
      n = 0;
      await h.write(buf.subarray(0, len));
    }
  };
  return {
    async write(b) {
      if (b.length >= size >> 1) {
        await drain();
        await h.write(b);
        return;
      }
      if (n + b.length > size) await drain();
      if (n + b.length > buf.length) {
        const bigger = new Uint8Array(Math.min(size, Math.max(4096, 2 * (n + b.length))));
        bigger.set(buf.subarray(0, n));
        buf = bigger;
      }
      buf.set(b, n);
      n += b.length;
    },
    async commit() {
      await drain();
      await h.commit();
    },
    abort: () => h.abort(),
  };
}

/** Writes `chunks` to `path` atomically: a dot-prefixed temp name in the same directory, fsync, rename, fsync(dir). */
export async function writeAtomic(
  fs: StorageFs,
  path: string,
  chunks: Iterable<Uint8Array>,
  tmpPath = tmpName(path),
): Promise<number> {
  const h = coalesced(await fs.create(tmpPath));
  let bytes = 0;
  try {
    for (const c of chunks) {
      await h.write(c);
      bytes += c.length;
    }
    await h.commit();
  } catch (e) {
    await h.abort();
    await fs.unlink(tmpPath).catch(() => {});
    throw e;
  }
  await fs.rename(tmpPath, path);
  await fs.syncDir(dirname(path));
  return bytes;
}

/** `.tmp-<name>.partial` next to the file: hidden, and no `*.parquet`/`*.arrows` glob matches it. */
export function tmpName(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.tmp-${path.slice(slash + 1)}.partial`;
}

/** Creates `dir` when missing and proves it writable with a probe file made and removed there; throws the I/O error. */
export async function ensureWritableDir(fs: StorageFs, dir: string): Promise<void> {
  await fs.mkdirp(dir);
  const probe = `${dir.replace(/\/+$/, "")}/.write-probe-${process.pid}`;
  const h = await fs.create(probe);
  await h.commit();
  await fs.unlink(probe);
}

/** errno code of an I/O error ("EIO", "ENOSPC", …) or a short description. */
export function errCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : e instanceof Error ? e.message : String(e);
}
