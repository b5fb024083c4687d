/** A strict parser of the Prometheus text exposition format 0.0.4, written independently of src/metrics.ts. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  helps: Map<string, string>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const VALUE = /^(?:NaN|[+-]Inf|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

function parseValue(s: string, where: string): number {
  if (!VALUE.test(s)) throw new Error(`${where}: bad value ${JSON.stringify(s)}`);
  if (s === "NaN") return NaN;
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

/** Throws with the line number on the first line that is not valid exposition format. */
export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const out: Exposition = { samples: [], types: new Map(), helps: new Map() };
  const seenSeries = new Set<string>();
  lines.forEach((line, i) => {
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    if (line === "") throw new Error(`${where}: empty line`);
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line);
      if (!m) return; // other comments are allowed
      const [, kw, name, rest = ""] = m;
      if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) throw new Error(`${where}: bad metric name`);
      if (kw === "HELP") {
        if (out.helps.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        if (/\\(?![\\n])/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        out.helps.set(
          name,
          rest.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c)),
        );
      } else {
        if (out.types.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest))
          throw new Error(`${where}: bad type ${rest}`);
        if (out.samples.some((s) => s.name === name)) throw new Error(`${where}: TYPE after samples of ${name}`);
        out.types.set(name, rest);
      }
      return;
    }
    const nm = METRIC_NAME.exec(line);
    if (!nm) throw new Error(`${where}: no metric name`);
    const name = nm[0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === "{") {
      pos++;
      while (line[pos] !== "}") {
        const ln = LABEL_NAME.exec(line.slice(pos));
        if (!ln) throw new Error(`${where}: bad label name at ${pos}`);
        pos += ln[0].length;
        if (line[pos] !== "=" || line[pos + 1] !== '"') throw new Error(`${where}: expected =" at ${pos}`);
        pos += 2;
        let val = "";
        for (;;) {
          const c = line[pos];
          if (c === undefined) throw new Error(`${where}: unterminated label value`);
          if (c === '"') break;
          if (c === "\\") {
            const e = line[pos + 1];
            if (e === "\\") val += "\\";
            else if (e === '"') val += '"';
            else if (e === "n") val += "\n";
            else throw new Error(`${where}: bad escape \\${e}`);
            pos += 2;
          } else {
            val += c;
            pos++;
          }
        }
        pos++;
        if (ln[0] in labels) throw new Error(`${where}: duplicate label ${ln[0]}`);
        labels[ln[0]] = val;
        if (line[pos] === ",") pos++;
        else if (line[pos] !== "}") throw new Error(`${where}: expected , or } at ${pos}`);
      }
      pos++;
    }
    if (line[pos] !== " ") throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(pos + 1).split(" ");
    if (parts.length > 2 || parts[0] === "") throw new Error(`${where}: expected "value [timestamp]"`);
    const value = parseValue(parts[0], where);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(series)) throw new Error(`${where}: duplicate series`);
    seenSeries.add(series);
    out.samples.push({ name, labels, value });
  });
  return out;
}
