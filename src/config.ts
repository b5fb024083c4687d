/** TOML → valibot → typed Config. Every refusal names the key path, the value and the reason (exit 2, nothing written). */
import { resolve } from "node:path";
import * as v from "valibot";
import { closestName, tomlSyntaxError } from "./config-errors.ts";
import { UserError } from "./errors.ts";
import { registerSecret } from "./log.ts";
import { PAIRS_DEFAULTS, type PairsSettings, pairsEntries } from "./pairs/config.ts";
import { nonNegInt, posInt } from "./config-values.ts";
import { KALSHI_DEFAULTS, type KalshiOptions, kalshiEntries } from "./venue/kalshi/config.ts";
import { MOCK_DEFAULTS, type MockOptions, mockEntries, resolveMockTwins } from "./venue/mock/config.ts";
import { POLYMARKET_DEFAULTS, type PolymarketOptions, polymarketEntries } from "./venue/polymarket/config.ts";
import {
  SELECTION_DEFAULTS,
  type SelectionSettings,
  selectionEntries,
  selectionOf,
  selectionProblem,
} from "./scheduler/selection-config.ts";
import * as up from "./upload/config.ts";

/** Per-venue collection settings: set under [collector] for all venues, overridable in [venues.NAME]. */
const collectEntries = {
  max_subs_per_venue: posInt(100_000),
  hot_count: nonNegInt(),
  rotation_period_secs: posInt(),
  snapshot_interval_ms_hot: posInt(),
  snapshot_interval_ms_warm: posInt(),
  subscription_churn_limit_per_minute: posInt(),
  stale_after_secs: posInt(),
  silence_timeout_secs: posInt(),
  reconnect_base_ms: posInt(),
  reconnect_cap_ms: posInt(),
  reconnect_reset_secs: posInt(),
  reconnect_max_per_minute: posInt(),
  connect_timeout_secs: posInt(),
};
export type CollectSettings = { [K in keyof typeof collectEntries]: number };

export const COLLECT_DEFAULTS: CollectSettings = {
  max_subs_per_venue: 200,
  hot_count: 40,
  rotation_period_secs: 180,
  snapshot_interval_ms_hot: 2000,
  snapshot_interval_ms_warm: 10000,
  subscription_churn_limit_per_minute: 20,
  stale_after_secs: 60,
  silence_timeout_secs: 120,
  reconnect_base_ms: 1000,
  reconnect_cap_ms: 60_000,
  reconnect_reset_secs: 60,
  reconnect_max_per_minute: 10,
  connect_timeout_secs: 15,
};

export {
  KALSHI_DEFAULTS,
  type KalshiOptions,
  MOCK_DEFAULTS,
  type MockOptions,
  POLYMARKET_DEFAULTS,
  type PolymarketOptions,
};

export const VENUE_KINDS = {
  mock: { entries: mockEntries, defaults: MOCK_DEFAULTS },
  polymarket: { entries: polymarketEntries, defaults: POLYMARKET_DEFAULTS },
  kalshi: { entries: kalshiEntries, defaults: KALSHI_DEFAULTS },
} as const;
export type VenueKind = keyof typeof VENUE_KINDS;
export type VenueOptions = { mock: MockOptions; polymarket: PolymarketOptions; kalshi: KalshiOptions };

const writerEntries = {
  bucket_minutes: posInt(60),
  flush_rows: posInt(),
  flush_secs: v.pipe(v.number(), v.minValue(0.001, "must be > 0")),
  row_group_rows: posInt(),
  max_buffer_rows: posInt(),
  compression: v.picklist(["zstd", "snappy", "uncompressed"], "must be zstd, snappy or uncompressed"),
  retry_base_ms: posInt(),
  retry_cap_ms: posInt(),
};
export type WriterSettings = {
  bucket_minutes: number;
  flush_rows: number;
  flush_secs: number;
  row_group_rows: number;
  max_buffer_rows: number;
  compression: "zstd" | "snappy" | "uncompressed";
  retry_base_ms: number;
  retry_cap_ms: number;
};
export const WRITER_DEFAULTS: WriterSettings = {
  bucket_minutes: 5,
  flush_rows: 50_000,
  flush_secs: 5,
  row_group_rows: 65_536,
  max_buffer_rows: 2_000_000,
  compression: "zstd",
  retry_base_ms: 500,
  retry_cap_ms: 30_000,
};

const metricsEntries = {
  listen: v.pipe(v.string(), v.regex(/^$|^[^\s:]*:\d{1,5}$/, 'must be "" (off) or "HOST:PORT"')),
  log_interval_secs: posInt(),
};
export type MetricsSettings = { listen: string; log_interval_secs: number };
export const METRICS_DEFAULTS: MetricsSettings = { listen: "", log_interval_secs: 10 };

const partial = <T extends Record<string, v.GenericSchema>>(entries: T) =>
  v.strictObject(
    Object.fromEntries(Object.entries(entries).map(([k, s]) => [k, v.optional(s)])) as {
      [K in keyof T]: v.OptionalSchema<T[K], undefined>;
    },
  );

const venueSectionBase = {
  enabled: v.boolean(),
  kind: v.picklist(Object.keys(VENUE_KINDS) as VenueKind[], `must be one of ${Object.keys(VENUE_KINDS).join(", ")}`),
  ...collectEntries,
  ...selectionEntries,
};

const FileSchema = v.strictObject({
  data_dir: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"))),
  top_k: v.optional(posInt(1000)),
  log_format: v.optional(v.picklist(["pretty", "json"], "must be pretty or json")),
  writer: v.optional(partial(writerEntries)),
  collector: v.optional(partial(collectEntries)),
  metrics: v.optional(partial(metricsEntries)),
  pairs: v.optional(partial(pairsEntries)),
  upload: v.optional(partial(up.uploadEntries)),
  retention: v.optional(partial(up.retentionEntries)),
  disk: v.optional(partial(up.diskEntries)),
  venues: v.optional(v.record(v.string(), v.record(v.string(), v.unknown()))),
});

export interface VenueConfig<K extends VenueKind = VenueKind> {
  name: string;
  kind: K;
  enabled: boolean;
  collect: CollectSettings;
  /** Pins and filters: which markets are recorded (src/scheduler/selection.ts). */
  selection: SelectionSettings;
  options: VenueOptions[K];
}

export interface Config {
  /** Where the config came from, for messages. */
  source: string;
  data_dir: string;
  top_k: number;
  log_format: "pretty" | "json";
  writer: WriterSettings;
  metrics: MetricsSettings;
  pairs: PairsSettings;
  upload: up.UploadSettings;
  retention: up.RetentionSettings;
  disk: up.DiskSettings;
  /** Every configured venue (enabled or not), in file order; `selected` says which this run acts on. */
  venues: VenueConfig[];
  selected: VenueConfig[];
}

export interface ConfigOverrides {
  dataDir?: string;
  venues?: string[];
  logFormat?: "pretty" | "json";
}

const VENUE_NAME = /^[a-z0-9_]+$/;

function fmtValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  const s = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function refuse(source: string, key: string, value: unknown, reason: string): never {
  throw new UserError(
    `${source}: ${key} = ${fmtValue(value)}: ${reason}`,
    2,
    "Fix the config file (see config/surveillance.toml for every key with its default) and run again; nothing was written.",
  );
}

function parseSection<T>(source: string, prefix: string, schema: v.GenericSchema, input: unknown): T {
  const r = v.safeParse(schema, input);
  if (r.success) return r.output as T;
  const issue = r.issues[0];
  const path = v.getDotPath(issue);
  const key = path ? `${prefix}${path}` : prefix.replace(/\.$/, "") || "(root)";
  if (issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never") {
    unknownKey(source, prefix, schema, issue.path?.map((p) => String(p.key)) ?? [], issue.path?.at(-1)?.value);
  }
  refuse(source, key, issue.input, issue.message);
}

/** The entries of the object schema at `path` (optional wrappers looked through); [] where there is none. */
function keysAt(schema: v.GenericSchema, path: string[]): string[] {
  const unwrap = (s: unknown) =>
    (s as { type?: string; wrapped?: unknown }).type === "optional" ? (s as { wrapped: unknown }).wrapped : s;
  let s: unknown = schema;
  for (const k of path) s = (unwrap(s) as { entries?: Record<string, unknown> }).entries?.[k];
  return Object.keys((unwrap(s) as { entries?: Record<string, unknown> } | undefined)?.entries ?? {});
}

/** `metrics.listn: unknown key; did you mean metrics.listen?` (the suggestion from the schema's keys of that table). */
function unknownKey(source: string, prefix: string, schema: v.GenericSchema, path: string[], value: unknown): never {
  const name = path.at(-1) ?? "";
  const table = `${prefix}${path.slice(0, -1).join(".")}`.replace(/\.$/, "");
  const known = keysAt(schema, path.slice(0, -1));
  const near = closestName(name, known);
  const dotted = (k: string) => (table ? `${table}.${k}` : k);
  const isTable = typeof value === "object" && value !== null && !Array.isArray(value);
  // The value is not shown: a key the schema does not know may hold anything (a pasted secret, say).
  const what = isTable ? `[${dotted(name)}]` : dotted(name);
  const hint = near ? `; did you mean ${isTable ? `[${dotted(near)}]` : dotted(near)}?` : "";
  throw new UserError(
    `${source}: ${what}: unknown ${isTable ? "table" : "key"}${hint}`,
    2,
    near
      ? "Fix the key and run again (config/surveillance.toml lists every key with its default); nothing was written."
      : `The keys of ${table ? `[${table}]` : "the top level"}: ${known.join(", ")} (config/surveillance.toml lists each with its default). Nothing was written.`,
  );
}

/** Validates an already parsed TOML document. Pure: no file or environment access. */
export function parseConfig(doc: unknown, source = "config", overrides: ConfigOverrides = {}): Config {
  const file = parseSection<v.InferOutput<typeof FileSchema>>(source, "", FileSchema, doc ?? {});
  const writer = { ...WRITER_DEFAULTS, ...strip(file.writer) } as WriterSettings;
  if (60 % writer.bucket_minutes !== 0)
    refuse(
      source,
      "writer.bucket_minutes",
      writer.bucket_minutes,
      "must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)",
    );
  if (writer.retry_cap_ms < writer.retry_base_ms)
    refuse(
      source,
      "writer.retry_cap_ms",
      writer.retry_cap_ms,
      `must be ≥ writer.retry_base_ms (${writer.retry_base_ms})`,
    );
  const upload = { ...up.UPLOAD_DEFAULTS, ...strip(file.upload) } as up.UploadSettings;
  up.checkUpload(upload, (k, val, why) => refuse(source, k, val, why));
  const disk = { ...up.DISK_DEFAULTS, ...strip(file.disk) } as up.DiskSettings;
  up.checkDisk(disk, (k, val, why) => refuse(source, k, val, why));
  const globalCollect = { ...COLLECT_DEFAULTS, ...strip(file.collector) } as CollectSettings;
  checkCollect(source, "collector.", globalCollect);

  const rawVenues = file.venues ?? { mock: { enabled: true } };
  const venues: VenueConfig[] = [];
  for (const [name, raw] of Object.entries(rawVenues)) {
    const prefix = `venues.${name}.`;
    if (!VENUE_NAME.test(name)) refuse(source, `venues.${name}`, name, "a venue name must match [a-z0-9_]+");
    const kindRaw = (raw as Record<string, unknown>).kind ?? name;
    if (!(typeof kindRaw === "string" && kindRaw in VENUE_KINDS)) {
      const near = typeof kindRaw === "string" ? closestName(kindRaw, Object.keys(VENUE_KINDS)) : undefined;
      refuse(
        source,
        `${prefix}kind`,
        kindRaw,
        `no adapter for this venue; ${near ? `did you mean ${(raw as Record<string, unknown>).kind === undefined ? `[venues.${near}]` : `"${near}"`}? Or ` : ""}set kind to one of ${Object.keys(VENUE_KINDS).join(", ")}`,
      );
    }
    const kind = kindRaw as VenueKind;
    const spec = VENUE_KINDS[kind];
    const section = parseSection<Record<string, unknown>>(
      source,
      prefix,
      partial({ ...venueSectionBase, ...spec.entries }),
      raw,
    );
    const collect = { ...globalCollect } as CollectSettings;
    const options: Record<string, unknown> = { ...spec.defaults };
    for (const [k, val] of Object.entries(section)) {
      if (val === undefined || k === "enabled" || k === "kind" || k in selectionEntries) continue;
      if (k in collectEntries) (collect as Record<string, number>)[k] = val as number;
      else options[k] = val;
    }
    checkCollect(source, prefix, collect);
    const selection = selectionOf(section);
    const problem = selectionProblem(selection, collect.hot_count);
    if (problem) refuse(source, `${prefix}${problem[0]}`, problem[1], problem[2]);
    venues.push({
      name,
      kind,
      enabled: (section.enabled as boolean | undefined) ?? true,
      collect,
      selection,
      options: options as never,
    });
  }

  resolveMockTwins(venues, (key, value, reason) => refuse(source, key, value, reason));

  let selected: VenueConfig[];
  if (overrides.venues && overrides.venues.length > 0) {
    selected = overrides.venues.map((n) => {
      const found = venues.find((x) => x.name === n);
      if (found) return found;
      if (n in VENUE_KINDS) {
        const kind = n as VenueKind;
        const vc: VenueConfig = {
          name: n,
          kind,
          enabled: true,
          collect: { ...globalCollect },
          selection: SELECTION_DEFAULTS,
          options: { ...VENUE_KINDS[kind].defaults } as never,
        };
        venues.push(vc);
        return vc;
      }
      throw new UserError(
        `--venue ${n}: no such venue in ${source} (configured: ${venues.map((x) => x.name).join(", ") || "none"})`,
        2,
      );
    });
  } else {
    selected = venues.filter((x) => x.enabled);
  }

  return {
    source,
    data_dir: overrides.dataDir ?? file.data_dir ?? "data",
    top_k: file.top_k ?? 50,
    log_format: overrides.logFormat ?? file.log_format ?? "pretty",
    writer,
    metrics: { ...METRICS_DEFAULTS, ...strip(file.metrics) } as MetricsSettings,
    pairs: { ...PAIRS_DEFAULTS, ...strip(file.pairs) } as PairsSettings,
    upload,
    retention: { ...up.RETENTION_DEFAULTS, ...strip(file.retention) } as up.RetentionSettings,
    disk,
    venues,
    selected,
  };
}

function strip<T extends object | undefined>(o: T): Partial<NonNullable<T>> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, val]) => val !== undefined)) as Partial<NonNullable<T>>;
}

function checkCollect(source: string, prefix: string, c: CollectSettings): void {
  if (c.hot_count > c.max_subs_per_venue)
    refuse(source, `${prefix}hot_count`, c.hot_count, `must be ≤ max_subs_per_venue (${c.max_subs_per_venue})`);
  if (c.reconnect_cap_ms < c.reconnect_base_ms)
    refuse(
      source,
      `${prefix}reconnect_cap_ms`,
      c.reconnect_cap_ms,
      `must be ≥ reconnect_base_ms (${c.reconnect_base_ms})`,
    );
}

export const DEFAULT_CONFIG_PATH = "config/surveillance.toml";
/** `Config.source` when no file was read. */
export const BUILTIN_SOURCE = "(built-in defaults)";

/** The start-up line that says which config a run uses (or that it runs on the defaults) and where its data goes. */
export function configNotice(config: Config, cwd: string): string {
  const dataDir = resolve(cwd, config.data_dir);
  if (config.source === BUILTIN_SOURCE)
    return `no --config and no ${DEFAULT_CONFIG_PATH} in ${cwd}: running on the built-in defaults; data dir ${dataDir}`;
  return `config ${resolve(cwd, config.source)}; data dir ${dataDir}`;
}

/** Reads and validates the config file. A missing file at the default path means built-in defaults; a missing explicit one is an error. */
export async function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): Promise<Config> {
  const explicit = path !== undefined && path !== DEFAULT_CONFIG_PATH;
  const p = path ?? DEFAULT_CONFIG_PATH;
  const file = Bun.file(p);
  if (!(await file.exists())) {
    if (explicit)
      throw new UserError(
        `config file not found: ${p}`,
        2,
        "Pass --config PATH to an existing file, or omit it to use config/surveillance.toml.",
      );
    return parseConfig({}, BUILTIN_SOURCE, overrides);
  }
  return parseConfig(parseToml(await file.text(), p), p, overrides);
}

/** Parses TOML text; a syntax error names the file, line and column (exit 2). */
export function parseToml(text: string, source: string): unknown {
  try {
    return Bun.TOML.parse(text);
  } catch {
    // The line is not quoted back: like an unknown key's value, it may hold anything.
    const e = tomlSyntaxError(text);
    const at = e?.line !== undefined ? ` at line ${e.line}, column ${e.column}` : "";
    throw new UserError(
      `${source}: not valid TOML${at}: ${e?.reason ?? "syntax error"}`,
      2,
      `Fix ${at ? `line ${e!.line}` : "the file"} and run again; nothing was written.`,
    );
  }
}

/** Reads a credential from the environment variable the config names. The value is never logged. */
export function readSecret(envVar: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const val = env[envVar];
  if (val === undefined || val === "") return undefined;
  registerSecret(val);
  return val;
}
