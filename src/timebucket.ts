/** Bucket arithmetic and UTC day/hour names, pure functions of epoch ms and bucket minutes (paths: layout.ts). */

export function bucketStart(ts: number, minutes: number): number {
  const len = minutes * 60_000;
  return Math.floor(ts / len) * len;
}

export function bucketEnd(ts: number, minutes: number): number {
  return bucketStart(ts, minutes) + minutes * 60_000;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** "YYYY-MM-DD" (UTC). */
export function utcDate(ts: number): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** "HH" (UTC). */
export function utcHour(ts: number): string {
  return pad2(new Date(ts).getUTCHours());
}

/** Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH` (UTC) to epoch ms; undefined when malformed. */
export function parseDateHour(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}))?$/.exec(s.trim());
  if (!m) return undefined;
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 0 : Number(m[4])];
  const ts = Date.UTC(y, mo - 1, d, h);
  const back = new Date(ts);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23)
    return undefined;
  return ts;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * A range [from, to) written the way `--from`/`--to` give it, both ends included: `2026-01-01T03 .. 2026-01-01T04`
 * for hours 03 and 04, `2026-01-01 .. 2026-01-07` for whole days, one name when it is one day or hour (a bound off
 * the hour grid, which no flag gives: both to the minute, the end excluded).
 */
export function formatRange(from: number, to: number): string {
  if (from % HOUR_MS !== 0 || to % HOUR_MS !== 0) {
    const minute = (ts: number) => new Date(ts).toISOString().slice(0, 16);
    return `${minute(from)} .. ${minute(to)} (end excluded)`;
  }
  const dayAligned = (ts: number) => ts % DAY_MS === 0;
  const hourName = (ts: number) => `${utcDate(ts)}T${utcHour(ts)}`;
  const start = dayAligned(from) ? utcDate(from) : hourName(from);
  const end = dayAligned(from) && dayAligned(to) ? utcDate(to - DAY_MS) : hourName(to - HOUR_MS);
  return start === end ? start : `${start} .. ${end}`;
}
