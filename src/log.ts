/** Logging through consola to stderr: pretty for humans, one JSON object per line with --log-format json. */
import { consola, type ConsolaInstance, type LogObject } from "consola";

export type LogFormat = "pretty" | "json";

export function setupLogging(format: LogFormat, verbose = false): void {
  consola.level = verbose ? 4 : 3;
  if (format === "json") {
    consola.setReporters([
      {
        log(obj: LogObject) {
          const [first, ...rest] = obj.args;
          const line: Record<string, unknown> = {
            ts: obj.date.toISOString(),
            level: obj.type,
            tag: obj.tag || undefined,
            msg: typeof first === "string" ? first : first instanceof Error ? first.message : JSON.stringify(first),
          };
          if (rest.length) line.args = rest.map((a) => (a instanceof Error ? a.message : a));
          process.stderr.write(JSON.stringify(line) + "\n");
        },
      },
    ]);
  } else {
    // consola writes info/log to stdout by default; stdout carries only results.
    consola.options.stdout = process.stderr;
  }
}

export function logger(tag: string): ConsolaInstance {
  return consola.withTag(tag);
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
