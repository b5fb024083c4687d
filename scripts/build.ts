/** Builds dist/surveillance with `bun build --compile`, embedding only this platform's nodejs-polars addon. */
import { $ } from "bun";
import { existsSync, readdirSync } from "node:fs";

const arch = process.arch === "arm64" ? "arm64" : "x64";
const os = process.platform;
// nodejs-polars picks its addon at run time among these packages; keep only the one installed for this machine.
const candidates = readdirSync("node_modules").filter((d) => d.startsWith("nodejs-polars-"));
const keep = candidates.filter((d) => d.startsWith(`nodejs-polars-${os}-${arch}`));
const externals = candidates.filter((d) => !keep.includes(d));
const knownVariants = ["gnu", "musl", "msvc"].map((libc) => `nodejs-polars-${os}-${arch}-${libc}`);
for (const k of knownVariants) if (!existsSync(`node_modules/${k}`) && !externals.includes(k)) externals.push(k);
const extFlags = externals.flatMap((e) => ["--external", e]);
await $`bun build --compile --minify-syntax --sourcemap=none ${extFlags} bin/surveillance.ts --outfile dist/surveillance`;
const size = Bun.file("dist/surveillance").size;
console.log(`built dist/surveillance (${(size / 1e6).toFixed(1)} MB), polars addon: ${keep.join(", ") || "none"}`);
