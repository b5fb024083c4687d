// `import p from "x.wasm" with { type: "file" }` yields a path (embedded by `bun build --compile`).
declare module "*.wasm" {
  const path: string;
  export default path;
}
