/**
 * Mutant generation for `bun run mutate`: one small change at a time (an operator, a constant, a condition, a call
 * statement removed), only in code, never inside comments, strings or template text. Pure: text in, mutants out.
 */

export interface Mutant {
  file: string;
  /** 1-based line of the change. */
  line: number;
  op: string;
  /** The whole line before and after (trimmed), for the report and the equivalence list. */
  before: string;
  after: string;
  /** The line above (trimmed): tells apart the same line written at two places, for the equivalence list. */
  above: string;
  /** Offset and length replaced in the file, and the replacement. */
  at: number;
  len: number;
  text: string;
}

/** true at each offset that is code (not a comment, a string, a template's text or a regex literal). */
export function codeMask(src: string): Uint8Array {
  const m = new Uint8Array(src.length);
  let i = 0;
  // template nesting: each entry is the brace depth at which a `${` opened
  const tpl: number[] = [];
  let depth = 0;
  let prevSignificant = "";
  while (i < src.length) {
    const c = src[i];
    const n = src[i + 1];
    if (c === "/" && n === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && n === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? src.length : end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === "\\" ? 2 : 1;
      i++;
      prevSignificant = "a";
      continue;
    }
    if (c === "`" || (c === "}" && tpl.length > 0 && tpl[tpl.length - 1] === depth)) {
      if (c === "}") tpl.pop();
      i++;
      // template text up to the closing backtick or the next `${`
      while (i < src.length && src[i] !== "`" && !(src[i] === "$" && src[i + 1] === "{")) i += src[i] === "\\" ? 2 : 1;
      if (src[i] === "$") {
        tpl.push(depth);
        i += 2;
      } else i++;
      prevSignificant = "a";
      continue;
    }
    if (c === "/" && /[(,=:[!&|?{};]|^$/.test(prevSignificant)) {
      // a regex literal
      i++;
      let cls = false;
      while (i < src.length && (cls || src[i] !== "/") && src[i] !== "\n") {
        if (src[i] === "\\") i++;
        else if (src[i] === "[") cls = true;
        else if (src[i] === "]") cls = false;
        i++;
      }
      i++;
      while (/[a-z]/.test(src[i] ?? "")) i++;
      prevSignificant = "a";
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") depth--;
    m[i] = 1;
    if (!/\s/.test(c)) prevSignificant = c;
    i++;
  }
  return m;
}

interface Rule {
  op: string;
  re: RegExp;
  /** Replacement for the match (null: skip it; with len: replaces that many characters from the match on). */
  to: (match: string, src: string, at: number) => string | { text: string; len: number } | null;
}

const swap =
  (pairs: Record<string, string>) =>
  (s: string): string | null =>
    pairs[s] ?? null;

const RULES: Rule[] = [
  { op: "equality", re: /===|!==/g, to: swap({ "===": "!==", "!==": "===" }) },
  {
    op: "relational",
    // not part of => or an arrow / generic / shift
    re: /(?<![=<>!-])(<=|>=|<|>)(?![=>])/g,
    to: (s, src, at) => {
      // skip generics and arrows: `<` followed by a type-looking name and `>` soon after, `=>`
      if (s === "<" && /^<[A-Z][\w.]*(\[\])?(, [A-Z][\w.]*)*>/.test(src.slice(at, at + 60))) return null;
      if (s === ">" && src[at - 1] === "=") return null;
      if (
        s === ">" &&
        /[A-Za-z\]]$/.test(src.slice(Math.max(0, at - 1), at)) &&
        src.slice(0, at).lastIndexOf("<") > at - 60
      )
        return null;
      return { "<": "<=", "<=": "<", ">": ">=", ">=": ">" }[s] ?? null;
    },
  },
  { op: "logical", re: /&&|\|\|/g, to: swap({ "&&": "||", "||": "&&" }) },
  { op: "nullish", re: /\?\?(?!=)/g, to: () => "&&" },
  {
    op: "arithmetic",
    re: /(?<=[\w)\]] )[+\-*/%](?= [\w(])/g,
    to: (s) => ({ "+": "-", "-": "+", "*": "/", "/": "*", "%": "*" })[s] ?? null,
  },
  { op: "update", re: /\+\+|--/g, to: swap({ "++": "--", "--": "++" }) },
  { op: "assign-op", re: /\+=|-=/g, to: swap({ "+=": "-=", "-=": "+=" }) },
  { op: "boolean", re: /\b(true|false)\b/g, to: swap({ true: "false", false: "true" }) },
  { op: "min-max", re: /\bMath\.(min|max)\b/g, to: swap({ "Math.min": "Math.max", "Math.max": "Math.min" }) },
  {
    op: "number",
    re: /(?<![\w.])\d[\d_]*(\.\d+)?(?![\w.])/g,
    to: (s) => {
      const v = Number(s.replaceAll("_", ""));
      if (!Number.isFinite(v)) return null;
      return v === 0 ? "1" : v === 1 ? "0" : String(v + 1);
    },
  },
  { op: "negation", re: /!(?=[\w(.])/g, to: (_s, src, at) => (src[at + 1] === "=" ? null : "") },
  {
    op: "condition",
    // the whole condition replaced by false (an `if` never taken, a loop never entered)
    re: /\b(if|while) \(/g,
    to: (s, src, at) => {
      let depth = 0;
      for (let k = at + s.length - 1; k < src.length; k++) {
        if (src[k] === "(") depth++;
        else if (src[k] === ")" && --depth === 0) return { text: `${s}false)`, len: k + 1 - at };
      }
      return null;
    },
  },
];

/** Statements worth deleting: a call or an assignment ending its line (not a declaration, return, throw, brace). */
const STATEMENT = /^(\s*)((?:this\.|await |[a-z_$][\w$]*[.[])[^;]*\);|[\w$.[\]]+ (?:=|\+=|-=) [^;]+;)\s*$/;

function lineStarts(src: string): number[] {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === "\n") starts.push(i + 1);
  return starts;
}

/** Every mutant of one file. Import/export-from lines and type-only lines are left alone. */
export function mutantsOf(file: string, src: string): Mutant[] {
  const mask = codeMask(src);
  const starts = lineStarts(src);
  const lineOf = (at: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const lineText = (l: number) => src.slice(starts[l], (starts[l + 1] ?? src.length + 1) - 1);
  const skipLine = (t: string) =>
    /^\s*(import|export \{|export \* |export type|type |interface |readonly |[a-zA-Z_]+\??: [A-Z][\w<>[\], |]*;$)/.test(
      t,
    ) || /^\s*(\/\/|\*|\/\*)/.test(t);
  const out: Mutant[] = [];
  const add = (op: string, at: number, len: number, text: string) => {
    const l = lineOf(at);
    const before = lineText(l);
    if (skipLine(before)) return;
    const col = at - starts[l];
    const after = (before.slice(0, col) + text + src.slice(at + len, at + len + 400)).split("\n")[0];
    const above = l > 0 ? lineText(l - 1).trim() : "";
    out.push({ file, line: l + 1, op, before: before.trim(), after: after.trim(), above, at, len, text });
  };
  for (const r of RULES) {
    r.re.lastIndex = 0;
    for (let m = r.re.exec(src); m; m = r.re.exec(src)) {
      const at = m.index;
      let code = true;
      for (let k = at; k < at + m[0].length; k++) code &&= mask[k] === 1;
      if (!code) continue;
      const to = r.to(m[0], src, at);
      if (to === null) continue;
      if (typeof to === "string") add(r.op, at, m[0].length, to);
      else add(r.op, at, to.len, to.text);
    }
  }
  for (let l = 0; l < starts.length; l++) {
    const t = lineText(l);
    const m = STATEMENT.exec(t);
    if (!m || skipLine(t) || mask[starts[l] + m[1].length] !== 1) continue;
    if (/^\s*(const|let|var|return|throw|case|default)\b/.test(t)) continue;
    add("delete-statement", starts[l] + m[1].length, t.length - m[1].length, "void 0;");
  }
  return out.sort((a, b) => a.at - b.at || a.op.localeCompare(b.op));
}

/** The file's text with one mutant applied. */
export function applyMutant(src: string, m: Mutant): string {
  return src.slice(0, m.at) + m.text + src.slice(m.at + m.len);
}

/** A small seeded PRNG (mulberry32) so a sample is the same run after run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` of `items` chosen with the seeded generator, kept in their original order. */
export function sample<T>(items: T[], n: number, seed: number): T[] {
  if (n >= items.length) return items;
  const rand = seeded(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}
