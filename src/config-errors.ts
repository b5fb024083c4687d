/**
 * What a config error says beyond the key and the reason: a "did you mean" among the keys the schema knows, and the
 * line and column of a TOML syntax error (Bun's TOML parser reports neither). Pure: text in, text out.
 */

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name closest to `name` when near enough to be a typo (at most 2 edits, or a third of a long name), else undefined. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

const parseError = (text: string): string | undefined => {
  try {
    Bun.TOML.parse(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

/** Texts longer than this get no position: Bun's parse grows faster than linearly with the keys of a table. */
const MAX_SEARCHED = 32 * 1024;

export interface TomlSyntaxError {
  /** The parser's reason, without its "TOML Parse error: " prefix. */
  reason: string;
  /** 1-based; undefined when the text is too long to search. */
  line?: number;
  column?: number;
}

/** The least n in (lo, hi] with `fails(n)`, given that `fails(hi)` holds and failing, once it starts, goes on. */
function firstFailing(lo: number, hi: number, fails: (n: number) => boolean): number {
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (fails(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The syntax error of `text`, or undefined when it parses. Bun's error carries no position, so it is found by
 * bisecting on prefixes: the first line, then within it the first character, whose prefix fails with the whole text's
 * message. The parser reads left to right, so every prefix that reaches where it gave up fails the same way; a shorter
 * one either parses or stops on a different message (an unfinished token), which makes the bisection exact.
 */
export function tomlSyntaxError(text: string): TomlSyntaxError | undefined {
  const full = parseError(text);
  if (full === undefined) return undefined;
  const reason = full.replace(/^TOML Parse error: /, "");
  if (text.length > MAX_SEARCHED) return { reason };
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  const lineEnd = (l: number) => (l + 1 < starts.length ? starts[l + 1] : text.length + 1); // past its newline
  const fails = (end: number) => parseError(text.slice(0, end)) === full;
  const line = firstFailing(-1, starts.length - 1, (l) => fails(lineEnd(l))); // 0-based
  const len = lineEnd(line) - 1 - starts[line];
  // A prefix that ends inside the line (columns 1..len), else the error is at the line's end (column len + 1).
  const column = firstFailing(0, len + 1, (c) => (c > len ? true : fails(starts[line] + c)));
  return { reason, line: line + 1, column };
}
