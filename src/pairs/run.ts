/**
 * `surveillance pairs` at the file edge: reads the newest universe of each selected venue and the mapping, writes
 * mappings/candidates.jsonl (undecided proposals, best first), or records --accept/--reject decisions in pairs.jsonl.
 */
import { thisCliCommand } from "../invocation.ts";
import * as fsp from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import { findLatestUniverse } from "../scanner/scanner.ts";
import { candidatesPath, mappingPath, METADATA_DIR } from "../layout.ts";
import { nodeFs, writeAtomic } from "../storage/fs.ts";
import {
  candidatesToJsonl,
  decide,
  decidedKeys,
  mappingToJsonl,
  type PairRecord,
  parseCandidates,
  parseMapping,
  pinsForPairs,
  resolvePairSpec,
} from "./mapping.ts";
import { type Candidate, knownPairs, type MatchQuality, matchQuality, matchVenues } from "./match.ts";
import type { Orientation } from "./score.ts";

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

async function writeText(path: string, text: string): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  await writeAtomic(nodeFs, path, [new TextEncoder().encode(text)]);
}

/** The confirmed mapping ([] when there is none yet). */
export async function readMapping(dataDir: string): Promise<PairRecord[]> {
  const path = mappingPath(dataDir);
  const text = await readText(path);
  return text === undefined ? [] : parseMapping(text, path);
}

export interface VenuePairResult {
  a: string;
  b: string;
  aMarkets: number;
  bMarkets: number;
  candidates: number;
  /** Against the universes' own truth (mock twins' extra.twin_of), when they carry one. */
  quality?: MatchQuality;
}

export interface ProposeResult {
  path: string;
  candidates: Candidate[];
  venuePairs: VenuePairResult[];
  decided: number;
}

/** Matches every two selected venues' newest universes and writes the undecided candidates, best first. */
export async function proposePairs(
  config: Config,
  now: number,
  minScore = config.pairs.min_score,
): Promise<ProposeResult> {
  const venues = config.selected.map((v) => v.name);
  if (venues.length < 2)
    throw new UserError(
      `pairs needs two or more venues (selected: ${venues.join(", ") || "none"})`,
      2,
      "Enable two venues in the config or pass --venue A --venue B.",
    );
  const universes = new Map<string, Awaited<ReturnType<typeof findLatestUniverse>>>();
  for (const v of venues) {
    const u = await findLatestUniverse(config.data_dir, v, now);
    if (!u)
      throw new UserError(
        `no universe for ${v} under ${join(config.data_dir, METADATA_DIR)}`,
        2,
        `Run \`${thisCliCommand()} scan --venue ${v}\` first.`,
      );
    universes.set(v, u);
  }
  const mapping = await readMapping(config.data_dir);
  const exclude = decidedKeys(mapping);
  const all: Candidate[] = [];
  const venuePairs: VenuePairResult[] = [];
  for (let i = 0; i < venues.length; i++) {
    for (let j = i + 1; j < venues.length; j++) {
      const a = universes.get(venues[i])!.markets;
      const b = universes.get(venues[j])!.markets;
      const cands = matchVenues(a, b, {
        minScore,
        maxPerMarket: config.pairs.max_per_market,
        closeToleranceMs: config.pairs.close_tolerance_hours * 3_600_000,
        exclude,
      });
      const truth = knownPairs(a, b);
      for (const k of exclude) truth.delete(k);
      all.push(...cands);
      venuePairs.push({
        a: venues[i],
        b: venues[j],
        aMarkets: a.filter((m) => m.status === "active").length,
        bMarkets: b.filter((m) => m.status === "active").length,
        candidates: cands.length,
        quality: truth.size > 0 ? matchQuality(cands, truth) : undefined,
      });
    }
  }
  all.sort((x, y) => y.score - x.score);
  const path = candidatesPath(config.data_dir);
  await writeText(path, candidatesToJsonl(all));
  return { path, candidates: all, venuePairs, decided: mapping.length };
}

export interface Decisions {
  accept: string[];
  reject: string[];
  /** Overrides the orientation of the accepted pairs (else the candidate's, else "same"). */
  orientation?: Orientation;
}

/** Records decisions in pairs.jsonl (a later decision on a pair replaces an earlier one); returns what was recorded. */
export async function decidePairs(config: Config, d: Decisions, now: number): Promise<PairRecord[]> {
  const candText = await readText(candidatesPath(config.data_dir));
  const cands = candText === undefined ? [] : parseCandidates(candText, candidatesPath(config.data_dir));
  let mapping = await readMapping(config.data_dir);
  const done: PairRecord[] = [];
  const decided_at = new Date(now).toISOString();
  for (const [specs, status] of [
    [d.accept, "confirmed"],
    [d.reject, "rejected"],
  ] as const) {
    for (const spec of specs) {
      const p = resolvePairSpec(spec, cands);
      const known = new Set(config.venues.map((v) => v.name));
      for (const v of [p.a_venue, p.b_venue])
        if (!known.has(v)) throw new UserError(`${spec}: no venue ${v} in ${config.source}`, 2);
      const r: PairRecord = {
        a_venue: p.a_venue,
        a_market_id: p.a_market_id,
        b_venue: p.b_venue,
        b_market_id: p.b_market_id,
        orientation: (status === "confirmed" ? d.orientation : undefined) ?? p.orientation ?? "same",
        status,
        decided_at,
        a_title: p.a_title,
        b_title: p.b_title,
      };
      mapping = decide(mapping, r);
      done.push(r);
    }
  }
  await writeText(mappingPath(config.data_dir), mappingToJsonl(mapping));
  return done;
}

/**
 * `[pairs] record = true`: the market ids to pin per selected venue so both sides of every confirmed pair are
 * recorded, HOT. Logs what it pins, a pair whose other venue is not being collected, and pairs whose venues snapshot
 * HOT books at different intervals (their snapshots then pair up less often).
 */
export async function confirmedPairPins(
  config: Config,
  log: { info(m: string): void; warn(m: string): void },
): Promise<Map<string, string[]>> {
  const confirmed = (await readMapping(config.data_dir)).filter((r) => r.status === "confirmed");
  const selected = new Map(config.selected.map((v) => [v.name, v]));
  const pins = pinsForPairs(confirmed);
  for (const v of [...pins.keys()]) if (!selected.has(v)) pins.delete(v);
  if (confirmed.length === 0) {
    log.warn(`[pairs] record = true but ${mappingPath(config.data_dir)} has no confirmed pair`);
    return pins;
  }
  const half = confirmed.filter((r) => selected.has(r.a_venue) !== selected.has(r.b_venue));
  if (half.length > 0)
    log.warn(
      `pairs: ${half.length} confirmed pairs have one venue not being collected (e.g. ${half[0].a_venue}:${half[0].a_market_id} = ${half[0].b_venue}:${half[0].b_market_id}); only the collected side is pinned`,
    );
  const cadence = new Set<string>();
  for (const r of confirmed) {
    const a = selected.get(r.a_venue);
    const b = selected.get(r.b_venue);
    if (a && b && a.collect.snapshot_interval_ms_hot !== b.collect.snapshot_interval_ms_hot)
      cadence.add(
        `${a.name} ${a.collect.snapshot_interval_ms_hot} ms vs ${b.name} ${b.collect.snapshot_interval_ms_hot} ms`,
      );
  }
  if (cadence.size > 0)
    log.warn(`pairs: paired venues snapshot HOT books at different intervals (${[...cadence].join("; ")})`);
  for (const [v, ids] of pins) log.info(`pairs: pinning ${ids.length} markets of confirmed pairs on ${v}`);
  return pins;
}
