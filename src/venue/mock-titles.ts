/**
 * Titles of the mock venue's markets: a question per market drawn from its own seeded stream (so the rest of the
 * universe does not depend on it), and a reworded form of the same question for a twin on another mock venue.
 */

/** What a title says, so a twin can say the same thing in other words (or its complement, `flipped`). */
export interface TitleSpec {
  kind: "price" | "rate" | "race" | "game" | "weather" | "release" | "film";
  subject: number;
  other: number;
  value: number;
  /** The event day (UTC, epoch ms of any time in it). */
  day: number;
}

interface Asset {
  short: string;
  long: string;
  lo: number;
  hi: number;
  step: number;
}

const ASSETS: Asset[] = [
  { short: "BTC", long: "Bitcoin", lo: 20_000, hi: 150_000, step: 500 },
  { short: "ETH", long: "Ethereum", lo: 1000, hi: 6000, step: 50 },
  { short: "SOL", long: "Solana", lo: 50, hi: 400, step: 5 },
  { short: "TSLA", long: "Tesla stock", lo: 100, hi: 500, step: 5 },
  { short: "NVDA", long: "Nvidia", lo: 80, hi: 300, step: 2 },
  { short: "gold", long: "Gold", lo: 1800, hi: 3500, step: 25 },
];
const RATES = ["US CPI inflation", "the US unemployment rate", "the 10-year Treasury yield", "the Fed funds rate"];
const NAMES = [
  "Rivera",
  "Okafor",
  "Lindqvist",
  "Tanaka",
  "Moreau",
  "Kowalski",
  "Haddad",
  "Brennan",
  "Castillo",
  "Nakamura",
  "Osei",
  "Petrov",
  "Alvarez",
  "Fischer",
  "Mensah",
  "Duarte",
  "Whitfield",
  "Sandoval",
  "Kaur",
  "Ibarra",
  "Novak",
  "Achebe",
  "Holloway",
  "Quintero",
  "Yamamoto",
  "Delacroix",
  "Sorensen",
  "Abernathy",
  "Mbeki",
  "Varga",
];
const OFFICES = ["Senate", "governor", "mayoral", "House", "attorney general", "state assembly"];
const STATES = ["Ohio", "Texas", "Georgia", "Arizona", "Nevada", "Maine", "Oregon", "Iowa", "Utah", "Vermont"];
const TEAMS = [
  "Hawks",
  "Lions",
  "Comets",
  "Pilots",
  "Rangers",
  "Falcons",
  "Otters",
  "Wolves",
  "Miners",
  "Sharks",
  "Bears",
  "Knights",
  "Storm",
  "Giants",
  "Rockets",
  "Vipers",
  "Titans",
  "Owls",
  "Bulls",
  "Eagles",
];
const CITIES = ["Denver", "Chicago", "Boston", "Buffalo", "Minneapolis", "Seattle", "Detroit", "Salt Lake City"];
const PRODUCTS = [
  ["Apple", "iPhone"],
  ["Google", "Pixel"],
  ["OpenAI", "GPT"],
  ["Samsung", "Galaxy S"],
  ["Sony", "PlayStation"],
  ["Nintendo", "Switch"],
  ["SpaceX", "Starship flight"],
  ["Valve", "Half-Life"],
] as const;
const FILMS = ["Starfall", "The Last Harbor", "Neon Tide", "Iron Meadow", "Paper Kings", "Silent Orbit", "Glass River"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** The kind of question asked per the market's first tag (same order as the mock's tag list). */
const KIND_BY_TAG: TitleSpec["kind"][] = ["race", "game", "price", "rate", "weather", "release", "film", "release"];

/** The spec of market i's title from a stream `r` in [0,1). */
export function titleSpec(r: () => number, tagIndex: number, day: number): TitleSpec {
  const kind = KIND_BY_TAG[tagIndex % KIND_BY_TAG.length];
  const pick = (n: number) => Math.floor(r() * n);
  switch (kind) {
    case "price": {
      const a = pick(ASSETS.length);
      const x = ASSETS[a];
      const steps = Math.floor((x.hi - x.lo) / x.step);
      return { kind, subject: a, other: 0, value: x.lo + pick(steps + 1) * x.step, day };
    }
    case "rate":
      return { kind, subject: pick(RATES.length), other: 0, value: (5 + pick(75)) / 10, day };
    case "race":
      return { kind, subject: pick(NAMES.length), other: pick(OFFICES.length * STATES.length), value: 0, day };
    case "game": {
      const a = pick(TEAMS.length);
      const b = (a + 1 + pick(TEAMS.length - 1)) % TEAMS.length;
      return { kind, subject: a, other: b, value: 0, day };
    }
    case "weather":
      return { kind, subject: pick(CITIES.length), other: 0, value: 1 + pick(36), day };
    case "release":
      return { kind, subject: pick(PRODUCTS.length), other: 0, value: 2 + pick(30), day };
    case "film":
      return { kind, subject: pick(FILMS.length), other: 0, value: 10 * (2 + pick(40)), day };
  }
}

const iso = (day: number) => new Date(day).toISOString().slice(0, 10);
const money = (v: number) => `$${v.toLocaleString("en-US", { maximumFractionDigits: 2 })}`;
const office = (o: number) => `${STATES[o % STATES.length]} ${OFFICES[Math.floor(o / STATES.length)]}`;

/** The title as the source venue asks it. */
export function renderTitle(s: TitleSpec): string {
  const d = iso(s.day);
  switch (s.kind) {
    case "price":
      return `Will ${ASSETS[s.subject].short} close above ${money(s.value)} on ${d}?`;
    case "rate":
      return `Will ${RATES[s.subject]} be above ${s.value}% on ${d}?`;
    case "race":
      return `Will ${NAMES[s.subject]} win the ${office(s.other)} race by ${d}?`;
    case "game":
      return `Will the ${TEAMS[s.subject]} beat the ${TEAMS[s.other]} on ${d}?`;
    case "weather":
      return `Will ${CITIES[s.subject]} get more than ${s.value} inches of snow by ${d}?`;
    case "release":
      return `Will ${PRODUCTS[s.subject][0]} release ${PRODUCTS[s.subject][1]} ${s.value} by ${d}?`;
    case "film":
      return `Will ${FILMS[s.subject]} gross more than ${money(s.value * 1e6)} on opening weekend by ${d}?`;
  }
}

/** Whether a twin of this kind of question may ask the complement (YES of one is NO of the other). */
export const canFlip = (s: TitleSpec): boolean => s.kind !== "game" && s.kind !== "release";

/** The same day written another way (several forms, as venues do). */
function otherDate(day: number, form: number): string {
  const t = new Date(day);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth();
  const dd = t.getUTCDate();
  switch (form % 6) {
    case 0:
      return `${MONTHS[m]} ${dd}, ${y}`;
    case 1:
      return `${MONTHS[m].slice(0, 3)} ${dd}`;
    case 2:
      return `${dd} ${MONTHS[m].slice(0, 3)} ${y}`;
    case 3:
      return `${m + 1}/${dd}/${y}`;
    case 4:
      return `${MONTHS[m].slice(0, 3)}. ${dd}${dd % 10 === 1 && dd !== 11 ? "st" : dd % 10 === 2 && dd !== 12 ? "nd" : dd % 10 === 3 && dd !== 13 ? "rd" : "th"}, ${y}`;
    default:
      return iso(day);
  }
}

function otherMoney(v: number, form: number): string {
  if (form % 3 === 0 && v >= 1000) return `$${Number((v / 1000).toFixed(2))}k`;
  if (form % 3 === 1) return `${v}`;
  return money(v);
}

/** The same question reworded for a twin; `flipped` asks its complement, so the twin's YES is the source's NO. */
export function rewordTitle(s: TitleSpec, r: () => number, flipped: boolean): string {
  const form = Math.floor(r() * 1000);
  const d = otherDate(s.day, form);
  const alt = form % 2 === 0;
  switch (s.kind) {
    case "price": {
      const x = ASSETS[s.subject];
      return flipped
        ? `Will ${x.long} finish below ${otherMoney(s.value, form >> 2)} on ${d}?`
        : `${x.long} ${alt ? "above" : "over"} ${otherMoney(s.value, form >> 2)} on ${d}?`;
    }
    case "rate":
      return flipped
        ? `${RATES[s.subject].replace(/^the /, "")} under ${s.value}% on ${d}?`
        : `${RATES[s.subject].replace(/^the /, "")} higher than ${s.value} percent on ${d}?`;
    case "race":
      return flipped
        ? `Will ${NAMES[s.subject]} lose the ${office(s.other)} race by ${d}?`
        : `${NAMES[s.subject]} to win ${office(s.other)} election (${d})`;
    case "game":
      return `${TEAMS[s.subject]} vs ${TEAMS[s.other]}: will the ${TEAMS[s.subject]} win on ${d}?`;
    case "weather":
      return flipped
        ? `${CITIES[s.subject]} snowfall less than ${s.value} inches by ${d}?`
        : `Will ${CITIES[s.subject]} see over ${s.value} inches of snow before ${d}?`;
    case "release":
      return `${PRODUCTS[s.subject][1]} ${s.value} released by ${PRODUCTS[s.subject][0]} before ${d}?`;
    case "film":
      return flipped
        ? `${FILMS[s.subject]} opening weekend under ${otherMoney(s.value * 1e6, 2)}? (${d})`
        : `${FILMS[s.subject]} opening weekend box office over $${s.value}M by ${d}`;
  }
}
