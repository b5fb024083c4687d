/**
 * Runs every bench/*.bench.ts, each in its own process so its peak RSS is its own. `bun run bench [filter] [args…]`:
 * the args after the filter go to each bench (e.g. `bun run bench miner --regen`).
 */
import { Glob } from "bun";

const filter = process.argv[2] ?? "";
const dir = import.meta.dir;
const files = [...new Glob("*.bench.ts").scanSync(dir)].filter((f) => f.includes(filter)).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const p = Bun.spawnSync(["bun", `${dir}/${f}`, ...process.argv.slice(3)], { stdout: "inherit", stderr: "inherit" });
  if (p.exitCode !== 0) failed++;
}
if (failed > 0) {
  console.error(`${failed} benchmark(s) failed`);
  process.exit(1);
}
