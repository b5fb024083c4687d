/** Serves the Metrics registry as Prometheus text at /metrics when `metrics.listen` is set (default bind 127.0.0.1). */
import type { MetricsSettings } from "./config.ts";
import type { Metrics } from "./metrics.ts";
import { UserError } from "./errors.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricsServer {
  /** The bound address, e.g. "127.0.0.1:9464" (the real port when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Splits "HOST:PORT" ("" host = 127.0.0.1; "[::1]:9464" for IPv6). */
export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^\s:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new UserError(`metrics.listen = ${JSON.stringify(listen)}: must be "HOST:PORT" (port 0-65535)`, 2);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** The process' metric names (gauges, no labels). */
export const PROCESS_METRICS = {
  rss: "surveillance_process_resident_memory_bytes",
  heapUsed: "surveillance_process_heap_used_bytes",
} as const;

/** Process-level gauges refreshed at each scrape (memory is what an operator watches on a weeks-long run). */
export function updateProcessMetrics(metrics: Metrics): void {
  const mem = process.memoryUsage();
  metrics.set(PROCESS_METRICS.rss, {}, mem.rss, "Resident set size of the process in bytes");
  metrics.set(PROCESS_METRICS.heapUsed, {}, mem.heapUsed, "JS heap in use in bytes");
}

/** Whether each venue is collecting now, for /healthz. */
export type HealthCheck = () => { venue: string; collecting: boolean; reason?: string }[];

/**
 * Starts the endpoint, or returns undefined when `listen` is "" (off). `/` answers with a pointer, `/healthz` with one
 * line per venue: 200 when every venue is collecting, 503 when one is not (a load balancer or watchdog checks it).
 */
export function startMetricsServer(
  settings: Pick<MetricsSettings, "listen">,
  metrics: Metrics,
  health?: HealthCheck,
): MetricsServer | undefined {
  if (!settings.listen) return undefined;
  const { hostname, port } = parseListen(settings.listen);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname,
      port,
      fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/") return new Response("surveillance: metrics at /metrics, venue health at /healthz\n");
        if (url.pathname === "/healthz") {
          const venues = health?.() ?? [];
          const lines = venues.map((v) => `${v.venue} ${v.collecting ? "collecting" : `not collecting: ${v.reason}`}`);
          const ok = venues.every((v) => v.collecting);
          return new Response(`${ok ? "ok" : "unhealthy"}\n${lines.map((l) => `${l}\n`).join("")}`, {
            status: ok ? 200 : 503,
          });
        }
        if (url.pathname !== "/metrics") return new Response("not found; try /metrics\n", { status: 404 });
        if (req.method !== "GET" && req.method !== "HEAD")
          return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
        updateProcessMetrics(metrics);
        return new Response(metrics.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
      },
    });
  } catch (e) {
    throw new UserError(
      `metrics.listen = ${JSON.stringify(settings.listen)}: cannot listen: ${(e as Error).message}`,
      1,
      'Choose a free port or set metrics.listen = "" to turn the endpoint off.',
    );
  }
  const boundPort = server.port ?? port;
  return {
    address: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${boundPort}`,
    port: boundPort,
    stop: () => server.stop(true),
  };
}
