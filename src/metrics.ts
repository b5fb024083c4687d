/** Counters and gauges kept in one place: logged periodically, rendered as Prometheus text for /metrics. */

export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  values: Map<string, { labels: Labels; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}=${labels[k]}`).join(",");
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function fmtNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly beforeRender: (() => void)[] = [];

  /** Runs `fn` before each render, so a scrape sees values computed now (components that publish in batches). */
  onRender(fn: () => void): void {
    this.beforeRender.push(fn);
  }

  private family(name: string, type: Family["type"], help: string): Family {
    let f = this.families.get(name);
    if (!f) {
      if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
      f = { name, help, type, values: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  /** Adds `by` (default 1) to a counter. */
  inc(name: string, labels: Labels = {}, by = 1, help = name): void {
    const f = this.family(name, "counter", help);
    const k = labelKey(labels);
    const cur = f.values.get(k);
    if (cur) cur.value += by;
    else f.values.set(k, { labels, value: by });
  }

  /** Sets a gauge. */
  set(name: string, labels: Labels, value: number, help = name): void {
    const f = this.family(name, "gauge", help);
    const k = labelKey(labels);
    const cur = f.values.get(k);
    if (cur) cur.value = value;
    else f.values.set(k, { labels, value });
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelKey(labels))?.value ?? 0;
  }

  /** Sum over every label set of a family (e.g. rejected messages of all reasons). */
  sum(name: string, filter: Labels = {}): number {
    const f = this.families.get(name);
    if (!f) return 0;
    let s = 0;
    for (const { labels, value } of f.values.values()) {
      if (Object.entries(filter).every(([k, v]) => labels[k] === v)) s += value;
    }
    return s;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    for (const fn of this.beforeRender) fn();
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.values.values()) {
        const ls = Object.entries(labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(",");
        out.push(`${f.name}${ls ? `{${ls}}` : ""} ${fmtNumber(value)}`);
      }
    }
    return out.join("\n") + "\n";
  }
}
