/**
 * A StorageFs that fails chosen operations with a chosen errno code (EIO, ENOSPC, EACCES…). We run as root,
 * where a read-only directory does not stop a write, so fault injection goes through the writer's fs layer.
 */
import { nodeFs, type StorageFs, type WriteHandle } from "../../src/storage/fs.ts";

type Op =
  | "mkdirp"
  | "create"
  | "write"
  | "commit"
  | "rename"
  | "syncDir"
  | "unlink"
  | "rmrf"
  | "readFile"
  | "appendDurable";

interface Rule {
  op: Op;
  match: (path: string) => boolean;
  code: string;
  /** Remaining failures; Infinity until cleared. */
  times: number;
}

export class FaultyFs {
  private rules: Rule[] = [];
  /** Every failure injected. */
  readonly failures: { op: Op; path: string; code: string; at: number }[] = [];

  /** `now` stamps each injected failure (pass the test's SimClock). */
  constructor(private readonly now: () => number = () => 0) {}

  fail(op: Op, code: string, opts: { match?: string | RegExp; times?: number } = {}): void {
    const m = opts.match;
    const match =
      m === undefined ? () => true : typeof m === "string" ? (p: string) => p.includes(m) : (p: string) => m.test(p);
    this.rules.push({ op, match, code, times: opts.times ?? Infinity });
  }

  clear(): void {
    this.rules = [];
  }

  private check(op: Op, path: string): void {
    const r = this.rules.find((x) => x.op === op && x.times > 0 && x.match(path));
    if (!r) return;
    r.times--;
    this.failures.push({ op, path, code: r.code, at: this.now() });
    throw Object.assign(new Error(`${r.code}: injected failure, ${op} '${path}'`), { code: r.code, path });
  }

  readonly fs: StorageFs = {
    mkdirp: async (d) => (this.check("mkdirp", d), nodeFs.mkdirp(d)),
    create: async (p) => {
      this.check("create", p);
      const h = await nodeFs.create(p);
      const wrapped: WriteHandle = {
        write: async (b) => (this.check("write", p), h.write(b)),
        commit: async () => {
          try {
            this.check("commit", p);
          } catch (e) {
            await h.abort();
            throw e;
          }
          return h.commit();
        },
        abort: () => h.abort(),
      };
      return wrapped;
    },
    rename: async (a, b) => (this.check("rename", b), nodeFs.rename(a, b)),
    syncDir: async (d) => (this.check("syncDir", d), nodeFs.syncDir(d)),
    unlink: async (p) => (this.check("unlink", p), nodeFs.unlink(p)),
    rmrf: async (p) => (this.check("rmrf", p), nodeFs.rmrf(p)),
    readFile: async (p) => (this.check("readFile", p), nodeFs.readFile(p)),
    readRange: async (p, o, n, into) => (this.check("readFile", p), nodeFs.readRange(p, o, n, into)),
    readdir: (d) => nodeFs.readdir(d),
    size: (p) => nodeFs.size(p),
    isDir: (p) => nodeFs.isDir(p),
    appendDurable: async (p, t) => (this.check("appendDurable", p), nodeFs.appendDurable(p, t)),
  };
}
