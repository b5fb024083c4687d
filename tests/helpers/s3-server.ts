/**
 * A real S3-protocol server for tests (s3rver on a loopback port, a temp directory, one bucket) and a fault proxy
 * in front of it: pass, drop (connections reset), stall (accepted, never answered), or an HTTP error (500, 403).
 * s3rver's own event stream counts the objects written, server-side.
 */
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

export interface S3Server {
  endpoint: string;
  bucket: string;
  dir: string;
  /** Keys written (PUT or multipart complete), one entry per write, in order. */
  writes: string[];
  close(): Promise<void>;
}

export async function startS3(bucket = "archive"): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), "s3rver-"));
  const srv = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const info = (await srv.run()) as unknown as { port: number };
  const writes: string[] = [];
  srv.on("event", (e: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => {
    for (const r of e.Records)
      if (r.eventName.startsWith("ObjectCreated")) writes.push(decodeURIComponent(r.s3.object.key));
  });
  return {
    endpoint: `http://127.0.0.1:${info.port}`,
    bucket,
    dir,
    writes,
    async close() {
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type FaultMode = "pass" | "drop" | "stall" | "500" | "403";

export interface FaultProxy {
  endpoint: string;
  mode: FaultMode;
  /** Sets the mode for new connections and ends every open one (pooled keep-alive connections included). */
  set(mode: FaultMode): void;
  /** Connections held without an answer (stall mode) that have sent a request. */
  stalledWithData(): number;
  /** Request lines ("PUT /bucket/key HTTP/1.1") of the stalled connections. */
  stalledRequests(): string[];
  /** Connections refused or answered with an error, by mode. */
  faults: Record<string, number>;
  close(): Promise<void>;
}

const ERROR_BODY: Record<string, [string, string]> = {
  "500": ["500 Internal Server Error", "InternalError"],
  "403": ["403 Forbidden", "AccessDenied"],
};

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(upstream);
  const open = new Set<net.Socket>();
  const stalled = new Map<net.Socket, string>();
  const proxy: FaultProxy = {
    endpoint: "",
    mode: "pass",
    faults: {},
    set(mode) {
      proxy.mode = mode;
      for (const s of open) s.destroy();
      open.clear();
      stalled.clear();
    },
    stalledWithData: () => [...stalled.values()].filter(Boolean).length,
    stalledRequests: () => [...stalled.values()].filter(Boolean),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    open.add(client);
    client.on("close", () => {
      open.delete(client);
      stalled.delete(client);
    });
    client.on("error", () => {});
    const mode = proxy.mode;
    if (mode !== "pass") proxy.faults[mode] = (proxy.faults[mode] ?? 0) + 1;
    if (mode === "drop") {
      client.destroy();
      return;
    }
    if (mode === "stall") {
      stalled.set(client, "");
      client.on("data", (d: Buffer) => {
        if (!stalled.get(client)) stalled.set(client, d.toString("latin1").split("\r\n")[0]);
      });
      return;
    }
    if (mode === "500" || mode === "403") {
      const [status, code] = ERROR_BODY[mode];
      client.once("data", () => {
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`;
        client.end(
          `HTTP/1.1 ${status}\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
      return;
    }
    const up = net.connect(Number(port), hostname);
    open.add(up);
    up.on("close", () => open.delete(up));
    up.on("error", () => client.destroy());
    client.pipe(up);
    up.pipe(client);
    client.on("close", () => up.destroy());
    up.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
