/**
 * Market titles in a comparable form: lower case, dates parsed out (several written forms), numbers parsed to
 * values ("$96.5k" = "96,500"), stop words dropped, light stemming, a small alias table, and the question's
 * direction (above/below, win/lose, not) kept apart as a polarity. Pure.
 */

const DAY = 86_400_000;

export interface NormalTitle {
  /** Content tokens, unique; numbers as "#<value>". */
  tokens: string[];
  /** Numeric values in the title (dates excluded). */
  numbers: number[];
  /** UTC days (epoch ms at 00:00) of the dates in the title. */
  days: number[];
  /** +1 unless the question asks the complement of its comparator's usual sense (below, lose, not…): -1. */
  polarity: 1 | -1;
  /** The comparator word that set the polarity, for reasons. */
  comparator?: string;
}

const MONTH_RE =
  "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const monthOf = (s: string) => MONTHS.indexOf(s.slice(0, 3));
const ORD = "(?:st|nd|rd|th)?";

/** Date forms, tried in this order; each match is cut out of the text before numbers are read. */
const DATE_FORMS: { re: RegExp; ymd: (m: RegExpExecArray) => [number | undefined, number, number] }[] = [
  // 2027-03-05, 2027-03-05T17:00:00Z
  { re: /\b(\d{4})-(\d{1,2})-(\d{1,2})(?:t[\d:.]+z?)?\b/g, ymd: (m) => [+m[1], +m[2] - 1, +m[3]] },
  // 3/5/2027, 3/5/27 (month first, as US venues write it)
  {
    re: /\b(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})\b/g,
    ymd: (m) => [m[3].length === 2 ? 2000 + +m[3] : +m[3], +m[1] - 1, +m[2]],
  },
  // March 5, 2027 · Mar. 5th 2027 · Mar 5
  {
    re: new RegExp(`\\b${MONTH_RE}\\.?\\s+(\\d{1,2})${ORD}(?:,?\\s+(\\d{4}))?\\b`, "g"),
    ymd: (m) => [m[3] === undefined ? undefined : +m[3], monthOf(m[1]), +m[2]],
  },
  // 5 March 2027 · 5th of Mar, 2027 · 5 Mar
  {
    re: new RegExp(`\\b(\\d{1,2})${ORD}\\s+(?:of\\s+)?${MONTH_RE}\\.?(?:,?\\s+(\\d{4}))?\\b`, "g"),
    ymd: (m) => [m[3] === undefined ? undefined : +m[3], monthOf(m[2]), +m[1]],
  },
];

/** The UTC day of (y, m, d), or undefined when it is no calendar date. A missing year is the one nearest `ref`. */
function dayOf(y: number | undefined, m: number, d: number, ref: number | null): number | undefined {
  if (m < 0 || m > 11 || d < 1 || d > 31) return undefined;
  const valid = (yy: number) => {
    const t = Date.UTC(yy, m, d);
    const back = new Date(t);
    return back.getUTCMonth() === m && back.getUTCDate() === d ? t : undefined;
  };
  if (y !== undefined) return valid(y);
  if (ref === null) return undefined;
  const ry = new Date(ref).getUTCFullYear();
  let best: number | undefined;
  for (const yy of [ry - 1, ry, ry + 1]) {
    const t = valid(yy);
    if (t !== undefined && (best === undefined || Math.abs(t - ref) < Math.abs(best - ref))) best = t;
  }
  return best;
}

/** Cuts the dates out of lower-cased `text`: their UTC days and the rest of the text. */
export function extractDates(text: string, ref: number | null): { days: number[]; rest: string } {
  const days: number[] = [];
  let rest = text;
  for (const form of DATE_FORMS) {
    rest = rest.replace(form.re, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray;
      const [y, mo, d] = form.ymd(m);
      const day = dayOf(y, mo, d, ref);
      if (day === undefined) return m[0];
      if (!days.includes(day)) days.push(day);
      return " ";
    });
  }
  return { days, rest };
}

const SCALE: Record<string, number> = {
  k: 1e3,
  thousand: 1e3,
  m: 1e6,
  mm: 1e6,
  mn: 1e6,
  million: 1e6,
  b: 1e9,
  bn: 1e9,
  billion: 1e9,
  trillion: 1e12,
};
const NUMBER_RE =
  /(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s*(k|thousand|mm|mn|m|million|bn|b|billion|trillion|%|percent)(?![a-z0-9]))?/g;

/** Cuts numbers out of `text`: their values ("$96.5k" → 96500, "3.2%" → 3.2) and the rest. */
export function extractNumbers(text: string): { numbers: number[]; rest: string } {
  const numbers: number[] = [];
  const rest = text.replace(NUMBER_RE, (_all, int: string, frac: string | undefined, unit: string | undefined) => {
    let v = Number(int.replaceAll(",", "") + (frac ?? ""));
    if (unit && unit in SCALE) v *= SCALE[unit];
    v = Number(v.toPrecision(12));
    if (!numbers.includes(v)) numbers.push(v);
    return " ";
  });
  return { numbers, rest };
}

const STOP = new Set(
  (
    "a an the will would be is are was were been being do does did to of in on at by for from with as and or " +
    "than then this that these those it its there their has have had before after during until end ends close " +
    "closes closing finish finishes price see get gets any who what which when where how vs v market question " +
    "yes per"
  ).split(" "),
);
const POSITIVE = new Set(
  "above over exceed exceeds exceeding more greater higher beat beats win wins surpass surpasses reach reaches hit hits top least".split(
    " ",
  ),
);
const NEGATIVE = new Set("below under less fewer lower lose loses".split(" "));
const NEGATION = new Set("not never fail fails won't wont isn't doesn't".split(" "));
/** A few names venues spell differently; extend with care (each entry makes two questions look alike). */
const ALIASES: Record<string, string> = {
  bitcoin: "btc",
  ethereum: "eth",
  ether: "eth",
  solana: "sol",
  tesla: "tsla",
  nvidia: "nvda",
  usa: "us",
  federal: "fed",
};

/** A light suffix strip so "inches"/"inch" and "released"/"release" meet; not a linguist's stemmer. */
export function stem(w: string): string {
  let s = w;
  if (s.length > 5 && s.endsWith("ing")) s = s.slice(0, -3);
  else if (s.length > 4 && s.endsWith("ies")) s = `${s.slice(0, -3)}y`;
  else if (s.length > 4 && s.endsWith("ed")) s = s.slice(0, -2);
  else if (s.length > 4 && /(s|x|z|ch|sh)es$/.test(s)) s = s.slice(0, -2);
  else if (s.length > 3 && s.endsWith("s") && !s.endsWith("ss")) s = s.slice(0, -1);
  if (s.length > 4 && s.endsWith("e")) s = s.slice(0, -1);
  return s;
}

/** `title` normalised; `ref` (the market's close time) supplies the year of a date written without one. */
export function normalizeTitle(title: string, ref: number | null = null): NormalTitle {
  const lower = title
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\bu\.s\.a?\.?/g, "us")
    .replace(/s&p/g, "spx");
  const { days, rest: noDates } = extractDates(lower, ref);
  const { numbers, rest } = extractNumbers(noDates);
  const tokens: string[] = numbers.map((n) => `#${n}`);
  let sign: 1 | -1 = 1;
  let comparator: string | undefined;
  for (const raw of rest.split(/[^a-z0-9']+/)) {
    const w = raw.replace(/^'+|'+$/g, "");
    if (w === "") continue;
    if (NEGATION.has(w)) {
      sign = sign === 1 ? -1 : 1;
      continue;
    }
    if (POSITIVE.has(w) || NEGATIVE.has(w)) {
      if (comparator === undefined) {
        comparator = w;
        if (NEGATIVE.has(w)) sign = sign === 1 ? -1 : 1;
      }
      if (!tokens.includes("cmp")) tokens.push("cmp");
      continue;
    }
    if (STOP.has(w)) continue;
    const t = stem(ALIASES[w] ?? w.replace(/'s?$/, ""));
    if (t !== "" && !tokens.includes(t)) tokens.push(t);
  }
  return { tokens, numbers, days: days.map((d) => Math.floor(d / DAY) * DAY), polarity: sign, comparator };
}
