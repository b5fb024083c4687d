/**
 * The confirmed mapping: `mappings/pairs.jsonl`, one decided pair per line (confirmed or rejected), edited by hand
 * or by `surveillance pairs --accept/--reject`. Parsing, deciding and pinning are pure; file I/O sits in the command.
 */
import { thisCliCommand } from "../invocation.ts";
import { UserError } from "../errors.ts";
import { CANDIDATES_FILE, PAIRS_FILE } from "../layout.ts";
import { type Candidate, pairKey } from "./match.ts";
import type { Orientation } from "./score.ts";

export interface PairRecord {
  a_venue: string;
  a_market_id: string;
  b_venue: string;
  b_market_id: string;
  orientation: Orientation;
  status: "confirmed" | "rejected";
  /** When decided (ISO 8601), for the record. */
  decided_at?: string;
  a_title?: string;
  b_title?: string;
}

const FIX = "Fix or delete that line of the mapping (one JSON object per line; see docs/pairs.md).";

/** Parses pairs.jsonl; a bad line is a user error naming the file, the line and the reason (exit 2). */
export function parseMapping(text: string, source = PAIRS_FILE): PairRecord[] {
  const out: PairRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${source}:${i + 1}: not valid JSON (${(e as Error).message})`, 2, FIX);
    }
    for (const k of ["a_venue", "a_market_id", "b_venue", "b_market_id"]) {
      if (typeof r?.[k] !== "string" || r[k] === "")
        throw new UserError(`${source}:${i + 1}: ${k} must be a non-empty string`, 2, FIX);
    }
    const orientation = r.orientation ?? "same";
    if (orientation !== "same" && orientation !== "flipped")
      throw new UserError(
        `${source}:${i + 1}: orientation = ${JSON.stringify(orientation)}: must be same or flipped`,
        2,
        FIX,
      );
    const status = r.status ?? "confirmed";
    if (status !== "confirmed" && status !== "rejected")
      throw new UserError(
        `${source}:${i + 1}: status = ${JSON.stringify(status)}: must be confirmed or rejected`,
        2,
        FIX,
      );
    out.push({ ...(r as unknown as PairRecord), orientation, status });
  }
  return out;
}

/** One JSON object per pair, keys in a fixed order. */
export function mappingToJsonl(records: PairRecord[]): string {
  return records
    .map((r) =>
      JSON.stringify({
        a_venue: r.a_venue,
        a_market_id: r.a_market_id,
        b_venue: r.b_venue,
        b_market_id: r.b_market_id,
        orientation: r.orientation,
        status: r.status,
        decided_at: r.decided_at,
        a_title: r.a_title,
        b_title: r.b_title,
      }),
    )
    .map((l) => `${l}\n`)
    .join("");
}

export function candidatesToJsonl(cands: Candidate[]): string {
  return cands.map((c) => `${JSON.stringify(c)}\n`).join("");
}

export function parseCandidates(text: string, source = CANDIDATES_FILE): Candidate[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as Candidate;
      } catch (e) {
        throw new UserError(
          `${source}:${i + 1}: not valid JSON (${(e as Error).message})`,
          2,
          `Run \`${thisCliCommand()} pairs\` again to rewrite the candidates.`,
        );
      }
    });
}

export const recordKey = (r: { a_venue: string; a_market_id: string; b_venue: string; b_market_id: string }) =>
  pairKey(r.a_venue, r.a_market_id, r.b_venue, r.b_market_id);

/** Keys of every decided pair (confirmed or rejected): the matcher proposes none of them again. */
export const decidedKeys = (records: PairRecord[]): Set<string> => new Set(records.map(recordKey));

/**
 * Resolves an --accept/--reject argument: a candidate's rank in candidates.jsonl ("3", 1-based) or
 * "VENUE:MARKET_ID=VENUE:MARKET_ID" (the market id may itself contain ':'; the venue name cannot).
 */
export function resolvePairSpec(
  spec: string,
  cands: Candidate[],
): Omit<PairRecord, "status" | "orientation"> & { orientation?: Orientation } {
  const s = spec.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    const c = cands[n - 1];
    if (!c)
      throw new UserError(
        `${s}: no candidate #${n} (candidates.jsonl has ${cands.length})`,
        2,
        `Run \`${thisCliCommand()} pairs\` to list candidates, or name the pair as VENUE:MARKET_ID=VENUE:MARKET_ID.`,
      );
    return { ...c };
  }
  const m = /^([a-z0-9_]+):(.+)=([a-z0-9_]+):(.+)$/.exec(s);
  if (!m)
    throw new UserError(
      `${s}: not a pair (want a candidate number or VENUE:MARKET_ID=VENUE:MARKET_ID)`,
      2,
      `Example: ${thisCliCommand()} pairs --accept 1 --reject polymarket:0xabc=kalshi:KXBTC-26DEC31-T100000`,
    );
  const [, a_venue, a_market_id, b_venue, b_market_id] = m;
  if (a_venue === b_venue) throw new UserError(`${s}: both markets are on ${a_venue}; a pair spans two venues`, 2);
  const found = cands.find((c) => recordKey(c) === pairKey(a_venue, a_market_id, b_venue, b_market_id));
  // A candidate listed the other way round keeps the order the user typed; orientation is symmetric.
  return found
    ? { ...found, a_venue, a_market_id, b_venue, b_market_id }
    : { a_venue, a_market_id, b_venue, b_market_id };
}

/** The mapping with `decision` taking the place of any earlier decision on the same pair. */
export function decide(records: PairRecord[], decision: PairRecord): PairRecord[] {
  const key = recordKey(decision);
  return [...records.filter((r) => recordKey(r) !== key), decision];
}

/** The market ids to pin per venue so every confirmed pair is recorded on both sides. */
export function pinsForPairs(records: PairRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (venue: string, id: string) => {
    const l = out.get(venue) ?? [];
    if (!l.includes(id)) l.push(id);
    out.set(venue, l);
  };
  for (const r of records) {
    if (r.status !== "confirmed") continue;
    add(r.a_venue, r.a_market_id);
    add(r.b_venue, r.b_market_id);
  }
  return out;
}
