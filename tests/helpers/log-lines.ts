/** The log lines (level, tag, message) written while a function runs, read back from the JSON log format. */
import { setupLogging } from "../../src/log.ts";

export interface LogLine {
  level: string;
  tag?: string;
  msg: string;
}

/**
 * Runs `fn` with every logger in JSON format and stderr captured; returns its result and the lines logged, then puts
 * the pretty format and stderr back (also when `fn` throws).
 */
export async function logLines<T>(fn: () => Promise<T>): Promise<{ result: T; lines: LogLine[] }> {
  const written: string[] = [];
  const orig = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array) => (written.push(String(s)), true)) as typeof process.stderr.write;
  setupLogging("json");
  try {
    const result = await fn();
    const lines = written
      .join("")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine);
    return { result, lines };
  } finally {
    process.stderr.write = orig;
    setupLogging("pretty");
  }
}
