/**
 * Config entries of market selection, per venue: `pin = [...]` and `[venues.NAME.filter]`. Exported as valibot
 * entries plus their type for src/config.ts to compose; apply to every venue kind.
 */
import * as v from "valibot";

/** "90s", "30m", "12h", "7d", "2w", "1d12h": a duration in ms, or undefined when it is not one. */
export function durationMs(s: string): number | undefined {
  const t = s.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  let total = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * unit[m[2]];
    end = re.lastIndex;
  }
  return end > 0 && end === t.length && total > 0 ? total : undefined;
}

/** Why a title regex does not compile (case-insensitive, as it is used), or undefined when it does. */
export function regexError(source: string): string | undefined {
  try {
    new RegExp(source, "i");
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const ids = () => v.array(v.pipe(v.string(), v.minLength(1, "an id must not be empty")), "must be a list of strings");
const names = () => v.array(v.pipe(v.string(), v.minLength(1, "a tag must not be empty")), "must be a list of strings");
const nonNeg = () => v.pipe(v.number(), v.minValue(0, "must be ≥ 0"));

const filterEntries = {
  tags_any: names(),
  tags_none: names(),
  title_matches: v.pipe(
    v.string(),
    v.check(
      (s) => regexError(s) === undefined,
      (issue) => `not a valid regular expression: ${regexError(issue.input as string)}`,
    ),
  ),
  min_volume: nonNeg(),
  min_liquidity: nonNeg(),
  closes_within: v.pipe(
    v.string(),
    v.check((s) => durationMs(s) !== undefined, 'must be a duration such as "12h", "7d" or "2w"'),
  ),
  exclude: ids(),
};

/** Which markets are eligible for HOT ranking and WARM rotation; every clause is optional (absent = no condition). */
export interface FilterSettings {
  tags_any?: string[];
  tags_none?: string[];
  title_matches?: string;
  min_volume?: number;
  min_liquidity?: number;
  closes_within?: string;
  exclude?: string[];
}

export interface SelectionSettings {
  /** Market ids always subscribed, always HOT, ahead of any ranking. */
  pin: string[];
  filter: FilterSettings;
}

export const SELECTION_DEFAULTS: SelectionSettings = { pin: [], filter: {} };

const optional = <T extends Record<string, v.GenericSchema>>(entries: T) =>
  Object.fromEntries(Object.entries(entries).map(([k, s]) => [k, v.optional(s)])) as {
    [K in keyof T]: v.OptionalSchema<T[K], undefined>;
  };

/** The keys a `[venues.NAME]` section takes for selection (spread into its schema). */
export const selectionEntries = {
  pin: ids(),
  filter: v.strictObject(optional(filterEntries)),
};

/** The selection settings from a parsed venue section (keys absent → defaults, undefined clauses dropped). */
export function selectionOf(section: Record<string, unknown>): SelectionSettings {
  const filter = Object.fromEntries(
    Object.entries((section.filter as FilterSettings | undefined) ?? {}).filter(([, x]) => x !== undefined),
  ) as FilterSettings;
  return { pin: [...new Set((section.pin as string[] | undefined) ?? [])], filter };
}

/** A refusal that needs the venue's collect settings: more pins than `hot_count`. Returns [key, value, reason]. */
export function selectionProblem(s: SelectionSettings, hotCount: number): [string, unknown, string] | undefined {
  if (s.pin.length > hotCount)
    return [
      "pin",
      s.pin,
      `${s.pin.length} pinned markets but hot_count is ${hotCount}: pins are HOT, raise hot_count (and max_subs_per_venue) or pin fewer`,
    ];
  return undefined;
}
