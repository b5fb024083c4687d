// `import s from "…" with { type: "text" }` yields the file's text (embedded by `bun build --compile`).
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
