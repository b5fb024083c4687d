/** Logging through consola to stderr: one line per message for humans, one JSON object per line with --log-format json. */
import { formatWithOptions } from "node:util";
import { consola, type ConsolaInstance, type LogObject } from "consola";

export type LogFormat = "pretty" | "json";

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

/**
 * Whether to colour what goes to `stream`: never with NO_COLOR (any non-empty value) or TERM=dumb, always with
 * FORCE_COLOR (other than 0/false), else only on a terminal. consola and citty decide on stdout alone, at import.
 */
export function wantsColor(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

const ansi = (open: number, close: number) => (t: string) => `\x1b[${open}m${t}\x1b[${close}m`;
const plain = (t: string) => t;
const gray = ansi(90, 39);
const BADGES: Record<string, [string, (t: string) => string]> = {
  fatal: ["FATAL", ansi(31, 39)],
  error: ["ERROR", ansi(31, 39)],
  fail: ["FAIL", ansi(31, 39)],
  warn: ["WARN", ansi(33, 39)],
  info: ["ℹ", ansi(36, 39)],
  start: ["◐", ansi(35, 39)],
  success: ["✔", ansi(32, 39)],
  ready: ["✔", ansi(32, 39)],
  debug: ["⚙", gray],
  trace: ["→", gray],
  verbose: ["⚙", gray],
};

/** `[tag] BADGE message`, one line per message (continuation lines of a stack kept, blank ones dropped). */
export function formatLine(obj: Pick<LogObject, "type" | "tag" | "args">, color: boolean): string {
  const text = formatWithOptions(
    { colors: false, compact: true },
    ...obj.args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : a)),
  );
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const [badge, paint] = BADGES[obj.type] ?? ["", plain];
  const parts = [obj.tag ? (color ? gray(`[${obj.tag}]`) : `[${obj.tag}]`) : "", color ? paint(badge) : badge];
  const head = parts.filter(Boolean).join(" ");
  return [head ? `${head} ${lines[0] ?? ""}` : (lines[0] ?? ""), ...lines.slice(1)].join("\n");
}

type ReporterContext = { options: { stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } };

const lineReporter = {
  log(obj: LogObject, ctx: ReporterContext) {
    const stream = (obj.level < 2 ? ctx.options.stderr : ctx.options.stdout) ?? process.stderr;
    stream.write(`${formatLine(obj, wantsColor(stream))}\n`);
  },
};

function reporters(format: LogFormat) {
  const base = format === "json" ? jsonReporter : lineReporter;
  return [{ log: (obj: LogObject, ctx: ReporterContext) => base.log({ ...obj, args: obj.args.map(redactArg) }, ctx) }];
}

/** Reporters and streams only (the level stays): for the lines the CLI may log before the config is read. */
export function setupReporters(format: LogFormat): void {
  for (const l of [consola, ...tagged]) {
    // consola writes info/log to stdout by default; stdout carries only results.
    l.options.stdout = process.stderr;
    l.options.stderr = process.stderr;
    l.setReporters(reporters(format));
  }
}

export function setupLogging(format: LogFormat, verbose = false): void {
  // withTag() copies level, reporters and streams into the new instance, and modules make their loggers at
  // import (often before this runs): set them on every logger made so far, not only on the root.
  setupReporters(format);
  for (const l of [consola, ...tagged]) l.level = verbose ? 4 : 3;
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
