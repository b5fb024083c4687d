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
];
