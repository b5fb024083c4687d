/** --from/--to (and --date) flags → an hour range [fromTs, toTs), UTC. `--to` includes the day or hour it names. */
import { UserError } from "../errors.ts";
import { parseDateHour } from "../timebucket.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;

function parse(flag: string, s: string): { ts: number; hasHour: boolean } {
  const ts = parseDateHour(s);
  if (ts === undefined)
    throw new UserError(`--${flag} ${JSON.stringify(s)}: expected YYYY-MM-DD or YYYY-MM-DDTHH (UTC)`, 2);
  return { ts, hasHour: /[T ]\d{2}$/.test(s.trim()) };
}

export function parseRange(from: string | undefined, to: string | undefined): { fromTs?: number; toTs?: number } {
  const f = from ? parse("from", from).ts : undefined;
  let t: number | undefined;
  if (to) {
    const p = parse("to", to);
    t = p.ts + (p.hasHour ? HOUR : DAY);
  }
  if (f !== undefined && t !== undefined && t <= f) throw new UserError(`--to ${to} is before --from ${from}`, 2);
  return { fromTs: f, toTs: t };
}

export function parseDay(s: string): number {
  const p = parse("date", s);
  if (p.hasHour) throw new UserError(`--date ${JSON.stringify(s)}: expected YYYY-MM-DD (UTC)`, 2);
  return p.ts;
}
