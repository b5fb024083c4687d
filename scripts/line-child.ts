/**
 * A harness child that speaks a line protocol on stdout (chaos and soak): spawned with Bun, its stdout split into
 * lines for `onLine`; `closed` settles with the exit code only once the child has exited and every line was read.
 */
import type { Subprocess } from "bun";

export interface LineChild {
  proc: Subprocess<"ignore", "pipe", "ignore" | "pipe" | "inherit" | Bun.BunFile>;
  /** The exit code, after the last line was handed to onLine (exit alone can come before stdout is drained). */
  closed: Promise<number>;
}

export function spawnLineChild(
  cmd: string[],
  onLine: (line: string) => void,
  stderr: "ignore" | "inherit" | Bun.BunFile = "ignore",
): LineChild {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr, stdin: "ignore" });
  const read = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onLine(line);
      }
    }
    if (buf) onLine(buf);
  })();
  return { proc, closed: Promise.all([proc.exited, read]).then(([code]) => code) };
}
