/** One table per component of metric names: unique, documented, and spelled nowhere else in the code. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ALL_METRIC_TABLES } from "../helpers/metric-tables.ts";

const REPO = join(import.meta.dir, "..", "..");
const TABLE_FILES = new Set([
  "src/collector/metric-names.ts",
  "src/storage/metric-names.ts",
  "src/upload/metric-names.ts",
  "src/scheduler/metric-names.ts",
  "src/metrics-server.ts",
]);
const names = Object.values(ALL_METRIC_TABLES).flatMap((t) => Object.values(t));

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.name === "node_modules"
      ? []
      : d.isDirectory()
        ? files(join(dir, d.name), ext)
        : d.name.endsWith(ext)
          ? [join(dir, d.name)]
          : [],
  );
}

describe("metric name tables", () => {
  test("every name is prefixed, and no two tables (or keys) share one", () => {
    for (const n of names) expect(n).toMatch(/^surveillance_[a-z0-9_]+$/);
    expect(new Set(names).size).toBe(names.length);
  });

  test("every name is documented in docs/", () => {
    const docs = files(join(REPO, "docs"), ".md")
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    expect(names.filter((n) => !new RegExp(`\\b${n}\\b`).test(docs))).toEqual([]);
  });

  test("no name of a table is spelled in code outside its table file", () => {
    const spelled: string[] = [];
    for (const dir of ["src", "tests", "scripts", "bench"]) {
      for (const f of files(join(REPO, dir), ".ts")) {
        const rel = relative(REPO, f);
        if (TABLE_FILES.has(rel)) continue;
        const text = readFileSync(f, "utf8");
        for (const n of names) if (new RegExp(`\\b${n}\\b`).test(text)) spelled.push(`${rel}: ${n}`);
      }
    }
    expect(spelled).toEqual([]);
  });
});
