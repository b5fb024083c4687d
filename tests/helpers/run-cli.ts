/** Runs the real CLI entry (`bun bin/surveillance.ts …`) and captures exit code, stdout and stderr. */
import { join } from "node:path";

export const REPO = join(import.meta.dir, "..", "..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  /** `env` is laid over this process' environment and NO_COLOR=1; a name given as undefined is unset. */
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", ...opts.env })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn(["bun", join(REPO, "bin", "surveillance.ts"), ...args], {
    cwd: opts.cwd ?? REPO,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
