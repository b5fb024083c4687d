/**
 * `bun run mutate [module…] [--max N] [--seed S] [--list]`: each mutant of the modules in modules.ts applied to a
 * throw-away copy of the tree, that module's tests run against it; score killed / non-equivalent (docs/reliability.md).
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EQUIVALENT } from "./equivalent.ts";
import { MODULES } from "./modules.ts";
import { applyMutant, type Mutant, mutantsOf, sample } from "./mutants.ts";

const REPO = resolve(import.meta.dir, "..", "..");
const SKIP = new Set(["node_modules", ".git", "data", "dist", ".tmp"]);

interface Args {
  modules: string[];
  max: number;
  seed: number;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { modules: [], max: 40, seed: 1, list: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === "--max") a.max = Number(argv[++i]);
    else if (v === "--seed") a.seed = Number(argv[++i]);
    else if (v === "--list") a.list = true;
    else if (v.startsWith("-")) throw new Error(`unknown flag ${v}`);
    else if (!MODULES[v]) throw new Error(`unknown module ${v} (known: ${Object.keys(MODULES).join(", ")})`);
    else a.modules.push(v);
  }
  if (!(a.max > 0)) throw new Error("--max needs a positive number");
  if (a.modules.length === 0) a.modules = Object.keys(MODULES);
  return a;
}

/**
 * Runs the tests in `cwd`; resolves to "pass", "fail" or "timeout" (the process group is killed on timeout). With
 * `failed`, the names of the failing tests are pushed to it (the baseline's, so a flaky test is named, not guessed).
 */
function runTests(
  cwd: string,
  tests: string[],
  timeoutMs: number,
  failed?: string[],
): Promise<"pass" | "fail" | "timeout"> {
  return new Promise((done) => {
    const p = spawn("bun", ["test", "--bail", "--timeout", "60000", ...tests], {
      cwd,
      stdio: failed ? ["ignore", "pipe", "pipe"] : "ignore",
      detached: true, // its own process group, so a timeout also ends the CLI children some tests start
      env: { ...process.env, NO_COLOR: "1" },
    });
    let text = "";
    p.stdout?.on("data", (b: Buffer) => void (text += b));
    p.stderr?.on("data", (b: Buffer) => void (text += b));
    const timer = setTimeout(() => {
      try {
        process.kill(-p.pid!, "SIGKILL");
      } catch {}
      done("timeout");
    }, timeoutMs);
    // "close", not "exit": the output is complete by then
    p.on("close", (code) => {
      clearTimeout(timer);
      failed?.push(...text.split("\n").filter((l) => l.startsWith("(fail)")));
      done(code === 0 ? "pass" : "fail");
    });
  });
}

const key = (m: Pick<Mutant, "file" | "before" | "after">, above?: string) =>
  `${m.file}|${above === undefined ? "" : `${above}|`}${m.before}|${m.after}`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const equivalent = new Map(EQUIVALENT.map((e) => [key(e, e.above), e.reason]));
  const copy = mkdtempSync(join(tmpdir(), "surveillance-mutate-"));
  const results: Record<string, unknown>[] = [];
  const cleanup = () => rmSync(copy, { recursive: true, force: true });
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    cpSync(REPO, copy, { recursive: true, filter: (src) => !SKIP.has(src.slice(REPO.length + 1).split("/")[0]) });
    symlinkSync(join(REPO, "node_modules"), join(copy, "node_modules"));
    for (const name of args.modules) {
      const mod = MODULES[name];
      // A mutant that does not parse (a `<` that was a generic, say) is no test of the tests: left out.
      const transpiler = new Bun.Transpiler({ loader: "ts" });
      const parses = (src: string) => {
        try {
          transpiler.transformSync(src);
          return true;
        } catch {
          return false;
        }
      };
      const all = mod.src.flatMap((f) => {
        const text = readFileSync(join(REPO, f), "utf8");
        return mutantsOf(f, text).filter((m) => parses(applyMutant(text, m)));
      });
      const chosen = sample(all, args.max, args.seed);
      console.log(`\n${name}: ${all.length} mutants in ${mod.src.join(", ")}; running ${chosen.length}`);
      if (args.list) {
        for (const m of chosen) console.log(`  ${m.file}:${m.line} ${m.op}: ${m.after}`);
        continue;
      }
      const t0 = performance.now();
      const failed: string[] = [];
      const base = await runTests(copy, mod.tests, 600_000, failed);
      const baseMs = performance.now() - t0;
      if (base !== "pass") {
        console.log(`  the tests do not pass on the unmutated tree (${base}): module skipped`);
        for (const f of failed) console.log(`    ${f}`);
        results.push({ module: name, error: `baseline ${base}` });
        continue;
      }
      const timeoutMs = Math.max(20_000, 3 * baseMs);
      const counts = { killed: 0, timeout: 0, survived: 0, equivalent: 0 };
      const survivors: Record<string, unknown>[] = [];
      for (const [i, m] of chosen.entries()) {
        const path = join(copy, m.file);
        const original = readFileSync(path, "utf8");
        let r: "pass" | "fail" | "timeout";
        try {
          writeFileSync(path, applyMutant(original, m));
          r = await runTests(copy, mod.tests, timeoutMs);
        } finally {
          writeFileSync(path, original);
        }
        const eq = equivalent.get(key(m, m.above)) ?? equivalent.get(key(m));
        const status = r === "fail" ? "killed" : r === "timeout" ? "timeout" : eq ? "equivalent" : "survived";
        counts[status]++;
        if (status === "survived" || status === "equivalent") survivors.push({ ...m, status, reason: eq });
        console.log(`  [${i + 1}/${chosen.length}] ${status.padEnd(10)} ${m.file}:${m.line} ${m.op}: ${m.after}`);
      }
      const nonEq = chosen.length - counts.equivalent;
      const score = nonEq === 0 ? 1 : (counts.killed + counts.timeout) / nonEq;
      console.log(
        `${name}: ${chosen.length} run, ${counts.killed} killed, ${counts.timeout} timed out (killed), ${counts.survived} survived, ${counts.equivalent} equivalent/accepted; score ${(100 * score).toFixed(1)}% of non-equivalent (baseline ${(baseMs / 1000).toFixed(1)} s)`,
      );
      results.push({ module: name, total: all.length, run: chosen.length, ...counts, score, survivors });
    }
  } finally {
    cleanup();
  }
  if (!args.list) {
    mkdirSync(join(REPO, ".tmp"), { recursive: true });
    const out = join(REPO, ".tmp", `mutate-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(out, `${JSON.stringify({ seed: args.seed, max: args.max, results }, null, 2)}\n`);
    console.log(`\nreport: ${out}`);
  }
}

await main();
