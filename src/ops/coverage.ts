/**
 * Coverage accounting, pure: the snapshots the schedule called for per venue and hour (replaying the snapshotter's
 * schedule from the subscription journal), the rows recorded, and the missing ones attributed to journaled causes.
 * The rules, and what each cause means: docs/operations.md "Coverage".
 */
import { COLLECT_DEFAULTS, type Config } from "../config.ts";
import type { JournalTier } from "../journal-records.ts";

const HOUR = 3_600_000;

/** A journal record as read (src/journal-records.ts): the fields the replay looks at. */
export interface CoverageRecord {
  ts: number;
  action: string;
  market_id?: unknown;
  outcome_id?: unknown;
  reason?: unknown;
  tier?: unknown;
  due?: unknown;
  since?: unknown;
  from?: unknown;
  conn?: unknown;
  hour?: unknown;
  rows?: unknown;
  durable?: unknown;
  hot_ms?: unknown;
  warm_ms?: unknown;
  flush_ms?: unknown;
}

export interface Cadence {
  hot_ms: number;
  warm_ms: number;
  flush_ms: number;
}

/** The cadences `config` schedules `venue` at: for journals whose `start` records do not carry their own. */
export function configCadence(config: Config, venue: string): Cadence {
  const c = config.venues.find((v) => v.name === venue)?.collect ?? COLLECT_DEFAULTS;
  return {
    hot_ms: c.snapshot_interval_ms_hot,
    warm_ms: c.snapshot_interval_ms_warm,
    flush_ms: config.writer.flush_secs * 1000,
  };
}

export interface CoverageInput {
  venue: string;
  /** The venue's journal records in ts order; may start before `from` (the day before: the schedule's phase). */
  records: CoverageRecord[];
  /** For runs whose `start` marker does not say (journals from before coverage records): the config's. */
  cadence: Cadence;
  /** The hours counted: [from, to) (a UTC day, or up to now for today). */
  from: number;
  to: number;
  /** Rows recorded (final and staged) per hour start. */
  recorded: Map<number, number>;
}

/** Snapshots missing, by cause. */
export interface MissingCauses {
  /** In the target set, waiting for churn budget: due at the tier's cadence from when it entered the targets. */
  not_subscribed: number;
  /** Between the last durable row of a run that died (its last `alive`) and the next run's `start` (at most). */
  crash: number;
  /** After the newest run's last sign of life: still in the writer's buffer, or lost if it died unrestarted. */
  in_flight: number;
  /** Skipped by the snapshotter catching up after a forward clock step or a stalled process (`stall` records). */
  stalled: number;
  /** Dropped by the writer (buffer full), as journaled. */
  writer_dropped: number;
  /** Whatever the journal does not explain. */
  unknown: number;
}

export interface CoverageRow extends MissingCauses {
  venue: string;
  /** "HH" (UTC), or "day" for the venue's total. */
  hour: string;
  expected: number;
  recorded: number;
  /** recorded / expected in percent (null when nothing was expected). */
  coverage_pct: number | null;
  /** expected - recorded (negative when more was recorded than the journal called for). */
  missing: number;
  /** Recorded beyond what the journal explains (0 when everything is journaled). */
  extra: number;
  /** Of the expected, due while a connection was down: recorded as stale rows, so not missing. */
  disconnected: number;
}

interface Book {
  tier: JournalTier;
  due: number;
}

interface Window {
  from: number;
  to: number;
}

/** Per-hour counters, keyed by hour start. */
class Tally {
  readonly m = new Map<number, number>();
  add(hour: number, n: number): void {
    if (n !== 0) this.m.set(hour, (this.m.get(hour) ?? 0) + n);
  }
  get(hour: number): number {
    return this.m.get(hour) ?? 0;
  }
}

const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
const tierOf = (x: unknown): JournalTier | undefined => (x === "hot" || x === "warm" ? x : undefined);
/** The tier a subscribe's reason implies (journals whose subscribes carry no tier). */
const reasonTier = (r: unknown): JournalTier | undefined =>
  r === "hot" ? "hot" : r === "warm" || r === "rotation" ? "warm" : undefined;
const bookKey = (r: CoverageRecord) => `${String(r.market_id)}\u0000${String(r.outcome_id)}`;
const isBook = (r: CoverageRecord) => typeof r.market_id === "string";

/**
 * The runs' windows from the markers: a crash window [durable, next start) for each run that left books open at the
 * next start, the newest run's in-flight window when it left books open, and the venue's connection-down spans.
 */
function windows(input: CoverageInput): { crash: Window[]; inFlight: Window[]; down: Window[] } {
  const crash: Window[] = [];
  const inFlight: Window[] = [];
  const spans: Window[] = [];
  const open = new Set<string>();
  const downSince = new Map<unknown, number>();
  let life: number | undefined;
  let durable: number | undefined;
  let flushMs = input.cadence.flush_ms;
  const closeDowns = (at: number) => {
    for (const since of downSince.values()) if (at > since) spans.push({ from: since, to: at });
    downSince.clear();
  };
  for (const r of input.records) {
    if (r.action === "start") {
      if (life !== undefined) {
        if (open.size > 0) crash.push({ from: durable ?? life, to: r.ts });
        closeDowns(life);
      }
      open.clear();
      durable = undefined;
      flushMs = num(r.flush_ms) ?? input.cadence.flush_ms;
    } else if (r.action === "alive") durable = num(r.durable) ?? r.ts;
    else if (r.action === "down") downSince.set(r.conn, downSince.get(r.conn) ?? r.ts);
    else if (r.action === "up") {
      const since = downSince.get(r.conn);
      if (since !== undefined && r.ts > since) spans.push({ from: since, to: r.ts });
      downSince.delete(r.conn);
    } else if (isBook(r) && r.action === "subscribe") open.add(bookKey(r));
    else if (isBook(r) && r.action === "unsubscribe" && r.reason !== "watchdog") open.delete(bookKey(r));
    life = Math.max(life ?? r.ts, r.ts);
  }
  if (life !== undefined) {
    if (open.size > 0) inFlight.push({ from: durable ?? life, to: Math.min(input.to, life + flushMs) });
    closeDowns(Math.min(input.to, life));
  }
  // The venue is "disconnected" while any of its connections is down: the union of the spans.
  spans.sort((a, b) => a.from - b.from);
  const down: Window[] = [];
  for (const s of spans) {
    const last = down.at(-1);
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else down.push({ ...s });
  }
  return { crash, inFlight, down };
}

/** Stall records first among records of the same ts (the snapshotter caught up before anything else at that time). */
function replayOrder(records: CoverageRecord[]): CoverageRecord[] {
  return records
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.ts - b.r.ts || (a.r.action === "stall" ? 0 : 1) - (b.r.action === "stall" ? 0 : 1) || a.i - b.i)
    .map((x) => x.r);
}

/** Replays the journal: expected snapshots and their causes per hour for one venue, then the rows per hour. */
export function computeCoverage(input: CoverageInput): CoverageRow[] {
  const { from: lo, to: hi } = input;
  const win = windows(input);
  const expected = new Tally();
  const notSubscribed = new Tally();
  const stalled = new Tally();
  const dropped = new Tally();
  const inCrash = new Tally();
  const inFlight = new Tally();
  const disconnected = new Tally();

  /** Points first + k*step, 0 <= k < n, within [a, b). */
  const between = (first: number, step: number, n: number, a: number, b: number): number => {
    const kLo = Math.max(0, Math.ceil((a - first) / step));
    const kHi = Math.min(n, Math.ceil((b - first) / step));
    return Math.max(0, kHi - kLo);
  };
  const inWindows = (ws: Window[], first: number, step: number, n: number, a: number, b: number): number => {
    let c = 0;
    for (const w of ws)
      if (w.to > a && w.from < b) c += between(first, step, n, Math.max(a, w.from), Math.min(b, w.to));
    return c;
  };
  /** Counts n scheduled snapshots first + k*step into the hours of [lo, hi), with the windows they fall in. */
  const emit = (first: number, step: number, n: number, waiting = false) => {
    if (n <= 0) return;
    const last = first + (n - 1) * step;
    const h0 = Math.max(lo, first - (first % HOUR));
    for (let h = h0; h <= last && h < hi; h += HOUR) {
      const a = Math.max(h, lo);
      const b = Math.min(h + HOUR, hi);
      const c = between(first, step, n, a, b);
      if (c === 0) continue;
      expected.add(h, c);
      if (waiting) {
        notSubscribed.add(h, c);
        continue;
      }
      inCrash.add(h, inWindows(win.crash, first, step, n, a, b));
      inFlight.add(h, inWindows(win.inFlight, first, step, n, a, b));
      disconnected.add(h, inWindows(win.down, first, step, n, a, b));
    }
  };

  let cadence = input.cadence;
  const interval = (t: JournalTier) => (t === "hot" ? cadence.hot_ms : cadence.warm_ms);
  const books = new Map<string, Book>();
  const waits = new Map<string, { tier: JournalTier; since: number }>();
  /** The book's snapshots due up to x (inclusive: what an unsubscribe or a tier change at x takes first). */
  const advance = (b: Book, x: number, inclusive: boolean) => {
    const step = interval(b.tier);
    if (b.due > x || (!inclusive && b.due === x)) return;
    const n = inclusive ? Math.floor((x - b.due) / step) + 1 : Math.ceil((x - b.due) / step);
    emit(b.due, step, n);
    b.due += n * step;
  };
  /** A wait for a subscribe ends at x: the snapshots due meanwhile at the tier's cadence were not subscribed. */
  const endWait = (k: string, x: number) => {
    const w = waits.get(k);
    if (!w) return;
    waits.delete(k);
    const step = interval(w.tier);
    const first = w.since + step;
    if (x > first) emit(first, step, Math.ceil((x - first) / step), true);
  };
  let life: number | undefined;

  for (const r of replayOrder(input.records)) {
    const ts = r.ts;
    switch (r.action) {
      case "start": {
        // Books the previous run left open (it died): due until this start, the crash window's share of them.
        for (const b of books.values()) advance(b, ts, false);
        books.clear();
        for (const k of [...waits.keys()]) endWait(k, life ?? ts);
        cadence = {
          hot_ms: num(r.hot_ms) ?? input.cadence.hot_ms,
          warm_ms: num(r.warm_ms) ?? input.cadence.warm_ms,
          flush_ms: num(r.flush_ms) ?? input.cadence.flush_ms,
        };
        break;
      }
      case "stall": {
        const since = num(r.from) ?? ts;
        for (const b of books.values()) {
          advance(b, since, false);
          if (b.due > ts) continue;
          const step = interval(b.tier);
          const n = Math.floor((ts - b.due) / step) + 1;
          // One snapshot at ts for all of them; the rest skipped.
          if (ts >= lo && ts < hi) {
            const h = ts - (ts % HOUR);
            expected.add(h, n);
            stalled.add(h, n - 1);
          }
          b.due += step;
          if (b.due <= ts) b.due = ts + step;
        }
        break;
      }
      case "dropped": {
        const h = num(r.hour);
        if (h !== undefined && h >= lo - (lo % HOUR) && h < hi) dropped.add(h, num(r.rows) ?? 0);
        break;
      }
      case "subscribe": {
        if (!isBook(r)) break;
        const k = bookKey(r);
        if (books.has(k)) break; // a resync, a watchdog resubscribe, a carry of what is open: the schedule goes on
        const tier = tierOf(r.tier) ?? reasonTier(r.reason) ?? waits.get(k)?.tier ?? "warm";
        endWait(k, ts);
        const due = r.reason === "carry" ? num(r.due) : undefined;
        books.set(k, { tier, due: due ?? ts + interval(tier) });
        break;
      }
      case "unsubscribe": {
        // A watchdog resubscribe keeps the market's snapshot slot: its unsubscribe ends nothing.
        if (!isBook(r) || r.reason === "watchdog") break;
        const k = bookKey(r);
        const b = books.get(k);
        if (b) advance(b, ts, true);
        books.delete(k);
        break;
      }
      case "tier": {
        const b = isBook(r) ? books.get(bookKey(r)) : undefined;
        const tier = tierOf(r.tier);
        if (!b || !tier || tier === b.tier) break;
        advance(b, ts, true);
        const last = b.due - interval(b.tier);
        b.tier = tier;
        b.due = Math.max(ts, last + interval(tier));
        break;
      }
      case "target": {
        if (!isBook(r)) break;
        const k = bookKey(r);
        if (books.has(k) || waits.has(k)) break;
        waits.set(k, { tier: tierOf(r.tier) ?? "warm", since: num(r.since) ?? ts });
        break;
      }
      case "untarget":
        if (isBook(r)) endWait(bookKey(r), ts);
        break;
    }
    life = Math.max(life ?? ts, ts);
  }
  // The newest run's open books: due through its in-flight window, if it has one.
  const tailEnd = win.inFlight.at(-1)?.to;
  if (tailEnd !== undefined) for (const b of books.values()) advance(b, tailEnd, false);
  for (const k of [...waits.keys()]) endWait(k, Math.min(hi, life ?? hi));

  const hours = new Set<number>([...expected.m.keys(), ...dropped.m.keys()]);
  for (const [h, n] of input.recorded) if (n > 0 && h >= lo - (lo % HOUR) && h < hi) hours.add(h);
  const rows = [...hours]
    .sort((a, b) => a - b)
    .map((h) =>
      attribute(input.venue, new Date(h).toISOString().slice(11, 13), {
        expected: expected.get(h),
        recorded: input.recorded.get(h) ?? 0,
        not_subscribed: notSubscribed.get(h),
        stalled: stalled.get(h),
        writer_dropped: dropped.get(h),
        crashCap: inCrash.get(h),
        inFlightCap: inFlight.get(h),
        disconnected: disconnected.get(h),
      }),
    );
  if (rows.length === 0) return rows;
  return [...rows, totalRow(input.venue, rows)];
}

/** The missing snapshots of an hour by cause: the journaled counts first, then crash and in-flight up to their windows' share. */
function attribute(
  venue: string,
  hour: string,
  f: {
    expected: number;
    recorded: number;
    not_subscribed: number;
    stalled: number;
    writer_dropped: number;
    crashCap: number;
    inFlightCap: number;
    disconnected: number;
  },
): CoverageRow {
  const missing = f.expected - f.recorded;
  let rest = missing - f.not_subscribed - f.stalled - f.writer_dropped;
  const crash = Math.max(0, Math.min(rest, f.crashCap));
  rest -= crash;
  const in_flight = Math.max(0, Math.min(rest, f.inFlightCap));
  rest -= in_flight;
  return {
    venue,
    hour,
    expected: f.expected,
    recorded: f.recorded,
    coverage_pct: pct(f.recorded, f.expected),
    missing,
    not_subscribed: f.not_subscribed,
    crash,
    in_flight,
    stalled: f.stalled,
    writer_dropped: f.writer_dropped,
    unknown: Math.max(0, rest),
    extra: Math.max(0, -rest),
    disconnected: f.disconnected,
  };
}

const pct = (recorded: number, expected: number) =>
  expected > 0 ? Math.round((recorded / expected) * 100_000) / 1000 : null;

/** The causes and the stale share, in table order. */
const COLUMNS = [
  "not_subscribed",
  "crash",
  "in_flight",
  "stalled",
  "writer_dropped",
  "unknown",
  "extra",
  "disconnected",
] as const;
const SUMMED = ["expected", "recorded", "missing", ...COLUMNS] as const;

function totalRow(venue: string, rows: CoverageRow[]): CoverageRow {
  const t = { venue, hour: "day", coverage_pct: null } as CoverageRow;
  for (const k of SUMMED) t[k] = rows.reduce((s, r) => s + r[k], 0);
  t.coverage_pct = pct(t.recorded, t.expected);
  return t;
}

/** The coverage table: one line per venue and hour, then the venue's day; columns named as in --json. */
export function formatCoverage(rows: CoverageRow[]): string {
  const head = ["venue", "hour", "expected", "recorded", "coverage", "missing", ...COLUMNS];
  const lines = [
    head,
    ...rows.map((r) => [
      r.venue,
      r.hour,
      String(r.expected),
      String(r.recorded),
      r.coverage_pct === null ? "-" : `${r.coverage_pct.toFixed(2)}%`,
      String(r.missing),
      ...COLUMNS.map((c) => String(r[c])),
    ]),
  ];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines
    .map((l) =>
      l
        .map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
