/**
 * Arg fragments shared by every command (--config, --data-dir, --venue, --log-format, --verbose), the config they
 * load, and the data dir a reader opens (a local dir, or a copy of `s3://BUCKET/PREFIX`).
 */
import type { ArgDef } from "citty";
import type { Config } from "../config.ts";
import type { DataDir } from "../upload/remote-dir.ts";

export const sharedArgs = {
  config: {
    type: "string",
    description: "Path to the TOML config file",
    default: "config/surveillance.toml",
    valueHint: "PATH",
  },
  "data-dir": {
    type: "string",
    description:
      "Data directory (overrides data_dir in the config); mine, status and verify also read s3://BUCKET/PREFIX with the [upload] endpoint and credentials",
    valueHint: "DIR",
  },
  venue: {
    type: "string",
    description: "Venue to act on (repeatable; default: every enabled venue)",
    valueHint: "NAME",
  },
  "log-format": {
    type: "enum",
    options: ["pretty", "json"],
    description: "Log format on stderr (overrides log_format in the config)",
    valueHint: "pretty|json",
  },
  verbose: {
    type: "boolean",
    description: "Show debug logs and error stacks",
    default: false,
  },
} as const satisfies Record<string, ArgDef>;

/** citty gives a repeated string flag as an array, a single one as a string. */
export function listArg(value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  const list = Array.isArray(value) ? value : [value];
  return list
    .flatMap((v) => String(v).split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Loads the config with the shared flags as overrides and sets up logging (flag, else config log_format). */
export async function commandConfig(
  args: { config?: string; "data-dir"?: string; venue?: unknown; "log-format"?: string; verbose?: boolean },
  rawArgs?: string[],
) {
  const [{ loadConfig }, { setupLogging }] = await Promise.all([import("../config.ts"), import("../log.ts")]);
  const flagFormat = args["log-format"] as "pretty" | "json" | undefined;
  setupLogging(flagFormat ?? "pretty", args.verbose);
  const config = await loadConfig(args.config, {
    dataDir: args["data-dir"],
    venues: rawArgs ? repeatedArg(rawArgs, "venue") : listArg(args.venue),
    logFormat: flagFormat,
  });
  if (config.log_format !== (flagFormat ?? "pretty")) setupLogging(config.log_format, args.verbose);
  return config;
}

/** citty keeps only the last value of a repeated flag: collect every `--name V` / `--name=V` from the raw args. */
export function repeatedArg(rawArgs: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === "--") break;
    if (a === `--${name}` && i + 1 < rawArgs.length) out.push(rawArgs[++i]);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return listArg(out);
}

/**
 * The data dir a reader (mine, status, verify) reads: config.data_dir itself, or for `s3://BUCKET/PREFIX` a temp
 * copy of its objects in [from, to) (src/upload/remote-dir.ts), removed on dispose:
 * `await using data = await readDataDir(config, range)`.
 */
export async function readDataDir(config: Config, range: { from?: number; to?: number }): Promise<DataDir> {
  const { openDataDir } = await import("../upload/remote-dir.ts");
  return openDataDir(config, range);
}
