/**
 * The house drawn from the imports: each folder of src/ may import only the rooms listed for it, so no import runs
 * back up the data flow (scanner → universe → scheduler → collector → writer → files → miner → stats → scheduler).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = join(import.meta.dir, "..", "..", "src");

/**
 * Rooms, and which rooms each may import (itself always). "base" is what everyone stands on: clock, config, log,
 * errors, metrics, schema, layout (the data tree), market (the domain types), timebucket, the fs seam. "edge" (cli,
 * commands, demo) wires rooms together and may import anything.
 */
const MAY_IMPORT: Record<string, string[]> = {
  base: [],
  parquet: ["base"],
  venue: ["base"],
  scanner: ["base", "venue"],
  scheduler: ["base", "parquet"],
  storage: ["base", "parquet"],
  collector: ["base", "venue", "scanner", "scheduler", "storage", "pairs", "upload"],
  analytics: ["base", "parquet", "scanner", "storage", "pairs"],
  ops: ["base", "parquet", "storage"],
  pairs: ["base", "scanner"],
  // Off the box: reads the final files the writer made (after storage in the flow), started by collect.
  upload: ["base", "storage"],
  edge: [
    "base",
    "parquet",
    "venue",
    "scanner",
    "scheduler",
    "storage",
    "collector",
    "analytics",
    "ops",
    "pairs",
    "upload",
  ],
};

/** The room of a file, by its path relative to src/. */
function roomOf(rel: string): string {
  const parts = rel.split("/");
  if (rel === "storage/fs.ts") return "base"; // the file-operations seam of every durable write (scanner, journal, writer)
  // A feature's or a venue's config entries (src/<x>/config.ts or <x>/<y>-config.ts, src/venue/<v>/config.ts),
  // composed by src/config.ts, so they stand with it.
  const name = parts.at(-1)!;
  const isConfig = name === "config.ts" || name.endsWith("-config.ts");
  if (isConfig && (parts.length === 2 || (parts[0] === "venue" && parts.length === 3))) return "base";
  if (parts.length === 1) return ["cli.ts", "demo.ts"].includes(rel) ? "edge" : "base";
  if (parts[0] === "types") return "base";
  if (parts[0] === "commands") return "edge";
  if (parts[0] in MAY_IMPORT) return parts[0];
  throw new Error(`src/${rel}: no room assigned (add its folder to tests/house/imports.test.ts)`);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  );
}

/** Relative specifiers of static, type-only, re-export and dynamic imports. */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g)) out.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]);
  for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) out.push(m[1]);
  return out.filter((s) => s.startsWith("."));
}

const edges = sources(SRC).flatMap((abs) => {
  const from = relative(SRC, abs);
  return importsOf(readFileSync(abs, "utf8")).map((spec) => ({
    from,
    spec,
    to: relative(SRC, resolve(dirname(abs), spec)),
  }));
});

describe("import graph", () => {
  test("every source file has a room and sees only the rooms it may import", () => {
    const bad: string[] = [];
    for (const { from, spec, to } of edges) {
      if (to.startsWith("..")) continue; // package.json (the version), outside src/
      const a = roomOf(from);
      const b = roomOf(to);
      if (a !== b && !MAY_IMPORT[a].includes(b)) bad.push(`src/${from} (${a}) -> ${spec} (${b})`);
    }
    expect(bad).toEqual([]);
  });

  test("every relative import names a file that exists", () => {
    const missing = edges
      .filter(({ to }) => !existsSync(join(SRC, to)))
      .map(({ from, spec }) => `src/${from} -> ${spec}`);
    expect(missing).toEqual([]);
  });

  test("the graph actually has edges between rooms (the parser sees imports)", () => {
    const pairs = new Set(edges.filter((e) => !e.to.startsWith("..")).map((e) => `${roomOf(e.from)}>${roomOf(e.to)}`));
    expect(pairs.has("collector>scheduler")).toBe(true);
    expect(pairs.has("edge>ops")).toBe(true); // a dynamic import in commands/
    expect(pairs.has("scheduler>parquet")).toBe(true); // the stats reader
  });

  test("the scheduler imports no venue code and storage nothing of analytics", () => {
    const v = edges.filter((e) => e.from.startsWith("scheduler/") && e.to.startsWith("venue/"));
    const s = edges.filter((e) => e.from.startsWith("storage/") && e.to.startsWith("analytics/"));
    expect([...v, ...s]).toEqual([]);
  });
});
