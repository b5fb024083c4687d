/**
 * parquet-wasm, initialized once. The wasm file is imported as a file so `bun build --compile` embeds it
 * (the package's node build reads it from __dirname, which does not exist inside the executable).
 */
import { readFileSync } from "node:fs";
import * as pw from "parquet-wasm/esm";
import wasmPath from "parquet-wasm/esm/parquet_wasm_bg.wasm" with { type: "file" };

pw.initSync({ module: readFileSync(wasmPath) });

export { pw };
