/** Logging through consola to stderr: pretty for humans, one JSON object per line with --log-format json. */
import { consola, type ConsolaInstance, type LogObject } from "consola";

export type LogFormat = "pretty" | "json";

// consola's own reporters (fancy on a terminal, basic otherwise), kept to wrap and to restore.
const defaultReporters = [...consola.options.reporters];
const secrets = new Set<string>();

/**
 * Marks a credential value so no log line ever shows it (replaced by "[redacted]"). Multi-line values (PEM keys)
 * are also registered line by line, so a single line quoted in an error is caught too.
 */
export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 16) secrets.add(line.trim());
}

export function redact(text: string): string {
  for (const s of secrets) if (text.includes(s)) text = text.split(s).join("[redacted]");
  return text;
}

function redactArg(a: unknown): unknown {
  if (secrets.size === 0) return a;
  if (typeof a === "string") return redact(a);
  if (a instanceof Error) {
    const e = new Error(redact(a.message));
    e.name = a.name;
    e.stack = a.stack === undefined ? undefined : redact(a.stack);
    return e;
  }
  if (a !== null && typeof a === "object") {
    try {
      return JSON.parse(redact(JSON.stringify(a, jsonSafe)));
    } catch {
      return a;
    }
  }
  return a;
}

function jsonSafe(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

const jsonReporter = {
  log(obj: LogObject) {
    const [first, ...rest] = obj.args;
    const line: Record<string, unknown> = {
      ts: obj.date.toISOString(),
      level: obj.type,
      tag: obj.tag || undefined,
      msg: typeof first === "string" ? first : first instanceof Error ? first.message : JSON.stringify(first, jsonSafe),
    };
    if (rest.length) line.args = rest.map((a) => (a instanceof Error ? a.message : a));
    process.stderr.write(JSON.stringify(line, jsonSafe) + "\n");
  },
};

export function setupLogging(format: LogFormat, verbose = false): void {
  const base = format === "json" ? [jsonReporter] : defaultReporters;
  const wrapped = base.map((r) => ({
    log: (obj: LogObject, ctx: Parameters<typeof r.log>[1]) => r.log({ ...obj, args: obj.args.map(redactArg) }, ctx),
  }));
  // withTag() copies level, reporters and streams into the new instance, and modules make their loggers at
  // import (often before this runs): set them on every logger made so far, not only on the root.
  for (const l of [consola, ...tagged]) {
    l.level = verbose ? 4 : 3;
    // consola writes info/log to stdout by default; stdout carries only results.
    l.options.stdout = process.stderr;
    l.setReporters([...wrapped]);
  }
}

/** Tagged loggers made so far: withTag() copies the level, so setupLogging sets it on each (modules make theirs at import). */
const tagged: ConsolaInstance[] = [];

export function logger(tag: string): ConsolaInstance {
  const l = consola.withTag(tag);
  tagged.push(l);
  return l;
}

/** Logs at most `perInterval` messages per key per interval; counts what it held back and says so. */
export class RateLimitedLog {
  private windows = new Map<string, { start: number; n: number; dropped: number }>();
  constructor(
    private readonly log: (msg: string) => void,
    private readonly perInterval = 5,
    private readonly intervalMs = 60_000,
  ) {}
  warn(key: string, msg: string, now: number): void {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.intervalMs) {
      if (w && w.dropped > 0) this.log(`${key}: ${w.dropped} more like this were not logged`);
      w = { start: now, n: 0, dropped: 0 };
      this.windows.set(key, w);
    }
    if (w.n < this.perInterval) {
      w.n++;
      this.log(msg);
    } else w.dropped++;
  }
}
