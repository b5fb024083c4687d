/**
 * Surviving mutants judged equivalent (no behaviour can tell them apart) or accepted (a change no test should pin),
 * each with its reason; `bun run mutate` counts them apart from real survivors. Keyed by file and the line before and
 * after the change (trimmed), so an entry goes stale, and the mutant counts again, when the line is edited.
 */
export interface EquivalentMutant {
  file: string;
  before: string;
  after: string;
  reason: string;
}

export const EQUIVALENT: EquivalentMutant[] = [
  {
    file: "src/venue/backoff.ts",
    before: "if (!max || max <= 0) return delay;",
    after: "if (!max || max < 0) return delay;",
    reason: "max = 0 is already caught by !max; the two differ for no value",
  },
  {
    file: "src/venue/_socket.ts",
    before: "if (ws && ws.readyState <= 1) ws.close(4000, reason.slice(0, 100));",
    after: "if (ws && ws.readyState <= 1) ws.close(4000, reason.slice(0, 101));",
    reason: "accepted: a guard under the 123-byte close-reason limit; 100 or 101 both stay under it",
  },
  {
    file: "src/collector/book.ts",
    before: "for (let j = this.len; j > i; j--) {",
    after: "for (let j = this.len; j >= i; j--) {",
    reason: "the extra step writes slot i, which the next two lines overwrite",
  },
  {
    file: "src/collector/book.ts",
    before: "for (let j = i; j < n; j++) {",
    after: "for (let j = i; j <= n; j++) {",
    reason: "the extra step writes slot n, past the new length (never read)",
  },
  {
    file: "src/ops/coverage.ts",
    before: "if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);",
    after: "if (last && s.from < last.to) last.to = Math.max(last.to, s.to);",
    reason: "two half-open down spans that touch count the same snapshots merged or apart",
  },
  {
    file: "src/ops/coverage.ts",
    before: "if (books.has(k) || waits.has(k)) break;",
    after: "if (false) break;",
    reason:
      "accepted: the collector journals `target` only for a market not subscribed, and a waiting market's day carry repeats its `since`; the guard is for journals it never writes",
  },
];
