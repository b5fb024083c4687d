/** Root command: lazy subcommands so `--help` never pays for Polars or Arrow; one place maps errors to exit codes. */
import { stripVTControlCharacters } from "node:util";
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { consola } from "consola";
import pkg from "../package.json" with { type: "json" };
import { EXIT_RUNTIME, EXIT_USAGE, UserError } from "./errors.ts";
import { setupLogging, setupReporters, wantsColor } from "./log.ts";

export const main = defineCommand({
  meta: {
    name: "surveillance",
    version: pkg.version,
    description: "Record prediction-market order books to Parquet and mine them offline",
  },
  subCommands: {
    scan: () => import("./commands/scan.ts").then((m) => m.default),
    collect: () => import("./commands/collect.ts").then((m) => m.default),
    mine: () => import("./commands/mine.ts").then((m) => m.default),
    demo: () => import("./commands/demo.ts").then((m) => m.default),
    status: () => import("./commands/status.ts").then((m) => m.default),
    verify: () => import("./commands/verify.ts").then((m) => m.default),
    pairs: () => import("./commands/pairs.ts").then((m) => m.default),
  },
});

/** citty's usage, without its colour codes when stdout is no terminal or NO_COLOR is set (citty checks neither). */
async function showUsage(...[cmd, parent]: Parameters<typeof renderUsage>): Promise<void> {
  const text = await renderUsage(cmd, parent);
  process.stdout.write(
    `${(wantsColor(process.stdout) ? text : stripVTControlCharacters(text)).replace(/[ \t]+$/gm, "")}\n`,
  );
}

async function resolveSub(
  cmd: CommandDef<ArgsDef>,
  rawArgs: string[],
): Promise<[CommandDef<ArgsDef>, CommandDef<ArgsDef> | undefined]> {
  const subs = typeof cmd.subCommands === "function" ? await cmd.subCommands() : await cmd.subCommands;
  const idx = rawArgs.findIndex((a) => !a.startsWith("-"));
  const name = idx >= 0 ? rawArgs[idx] : undefined;
  if (subs && name && name in subs) {
    const entry = subs[name];
    const sub = typeof entry === "function" ? await entry() : await entry;
    return resolveSub(sub, rawArgs.slice(idx + 1)).then(([c]) => [c, cmd]);
  }
  return [cmd, undefined];
}

export async function runCli(rawArgs: string[] = process.argv.slice(2)): Promise<never> {
  const verbose = rawArgs.includes("--verbose");
  // stdout carries only results; every log line (advice included) goes to stderr, one line each.
  setupReporters("pretty");
  // JSON from the first line when asked on the command line (errors before the config is read included).
  const fmtAt = rawArgs.findIndex((a) => a === "--log-format" || a.startsWith("--log-format="));
  if (fmtAt >= 0 && (rawArgs[fmtAt].split("=")[1] ?? rawArgs[fmtAt + 1]) === "json") setupLogging("json", verbose);
  try {
    if (rawArgs.some((a) => a === "--help" || a === "-h")) {
      const [cmd, parent] = await resolveSub(main, rawArgs);
      await showUsage(cmd, parent);
      process.exit(0);
    }
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      console.log(pkg.version);
      process.exit(0);
    }
    if (rawArgs.length === 0) {
      await showUsage(main);
      process.exit(EXIT_USAGE);
    }
    const [cmd] = await resolveSub(main, rawArgs);
    await checkFlags(cmd, rawArgs);
    await runCommand(main, { rawArgs });
    process.exit(process.exitCode ?? 0);
  } catch (error) {
    process.exit(reportError(error, verbose, rawArgs));
  }
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** citty ignores unknown flags; a mistyped `--durtion 5s` must not silently run without a limit. */
async function checkFlags(cmd: CommandDef<ArgsDef>, rawArgs: string[]): Promise<void> {
  const args = ((typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {}) as Record<
    string,
    { type?: string; alias?: string | string[] }
  >;
  const known = new Map<string, string | undefined>();
  for (const [name, def] of Object.entries(args)) {
    for (const n of [name, camel(name), ...[def.alias ?? []].flat()]) known.set(n, def.type);
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") continue;
    const body = a.replace(/^--?/, "");
    const [name, inline] = body.split("=", 2) as [string, string | undefined];
    let type = known.get(name);
    if (type === undefined && name.startsWith("no-") && known.get(name.slice(3)) === "boolean") type = "boolean";
    if (type === undefined && !known.has(name)) {
      throw new UserError(
        `unknown option ${a.split("=")[0]}`,
        2,
        `Run \`surveillance ${cmd.meta && "name" in (cmd.meta as object) ? (cmd.meta as { name?: string }).name : ""} --help\` for the options.`,
      );
    }
    if (type !== "boolean" && inline === undefined) i++; // skip the flag's value
  }
}

/** Maps an error to its exit code and prints it: advice for the user's errors, a stack only with --verbose. */
export function reportError(error: unknown, verbose: boolean, rawArgs: string[] = []): number {
  if (error instanceof UserError) {
    consola.error(error.message);
    if (error.advice) consola.info(error.advice);
    if (verbose && error.stack) consola.debug(error.stack);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === "CLIError") {
    consola.error(error.message);
    consola.info(
      `Run \`surveillance ${rawArgs.find((a) => !a.startsWith("-")) ?? ""} --help\` for usage.`.replace("  ", " "),
    );
    return EXIT_USAGE;
  }
  if (verbose) consola.error(error);
  else consola.error(error instanceof Error ? `${error.message} (run with --verbose for the stack)` : String(error));
  return EXIT_RUNTIME;
}
