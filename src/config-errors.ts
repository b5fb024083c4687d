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

export interface TomlSyntaxError {
  /** The parser's reason, without its "TOML Parse error: " prefix. */
  reason: string;
  /** 1-based; undefined when no prefix of the text reproduces the error. */
  line?: number;
  column?: number;
}

/**
 * The syntax error of `text`, or undefined when it parses. Bun's error carries no position, so it is found by
 * parsing prefixes: the error is at the first line, and in it the first character, whose prefix fails with the
 * same message as the whole text (the parser reads left to right, so that is where it gave up).
 */
export function tomlSyntaxError(text: string): TomlSyntaxError | undefined {
  const full = parseError(text);
  if (full === undefined) return undefined;
  const reason = full.replace(/^TOML Parse error: /, "");
  const lines = text.split("\n");
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const end = start + lines[i].length;
    if (parseError(text.slice(0, end + 1)) === full) {
      let column = lines[i].length + 1; // found at the line's end
      for (let c = 1; c <= lines[i].length; c++) {
        if (parseError(text.slice(0, start + c)) === full) {
          column = c;
          break;
        }
      }
      return { reason, line: i + 1, column };
    }
    start = end + 1;
  }
  return { reason };
}
