/** ReconnectingSocket on the injected clock: reconnects with fresh headers, silence detection, refused and stalled upgrades. */
import { afterAll, describe, expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { SimClock } from "../../src/clock.ts";
import { ReconnectingSocket } from "../../src/venue/_socket.ts";
import { waitFor } from "../helpers/wait.ts";

/** A loopback server that refuses a bad header with 401 and lets the test drop or mute its sockets. */
const sockets: ServerWebSocket<unknown>[] = [];
const seenHeaders: string[] = [];
/** Close code and reason of every connection as the server saw it end. */
const serverCloses: string[] = [];
const server = Bun.serve({
  port: 0,
  fetch(req, srv) {
    const h = req.headers.get("x-token") ?? "";
    seenHeaders.push(h);
    if (h === "bad") return new Response("unauthorized", { status: 401 });
    return srv.upgrade(req) ? undefined : new Response("upgrade expected", { status: 400 });
  },
  websocket: {
    open(ws) {
      sockets.push(ws);
    },
    message(ws, m) {
      ws.send(`echo:${m}`);
    },
    close(_ws, code, reason) {
      serverCloses.push(`${code} ${reason}`);
    },
  },
});
afterAll(() => server.stop(true));
const url = `ws://127.0.0.1:${server.port}/ws`;
const backoff = { baseMs: 1000, capMs: 8000, resetAfterMs: 60_000 };

describe("ReconnectingSocket", () => {
  test("reconnects after a drop, with fresh headers, after the backoff delay on the injected clock", async () => {
    const clock = new SimClock();
    let n = 0;
    const events: string[] = [];
    const s = new ReconnectingSocket({
      url,
      clock,
      backoff,
      random: () => 0.5,
      silenceTimeoutMs: 0,
      headers: () => ({ "x-token": `t${++n}` }),
      onOpen: () => events.push("open"),
      onMessage: (d) => events.push(d),
      onClose: (r) => events.push(`close:${r.split(" ")[0]}`),
    });
    const before = sockets.length;
    expect((await s.start()).ok).toBe(true);
    expect(s.send("a")).toBe(true);
    await waitFor(() => events.includes("echo:a"), "echo");
    sockets[before].close(1001, "bye");
    await waitFor(() => events.includes("close:closed"), "close");
    // attempt 0 with random 0.5 → 500 ms: nothing before that, a new connection after it.
    await clock.advance(499);
    expect(s.connected).toBe(false);
    await clock.advance(1);
    await waitFor(() => s.connected, "reconnect");
    expect(events.filter((e) => e === "open").length).toBe(2);
    expect(seenHeaders.slice(-2)).toEqual(["t1", "t2"]);
    await s.close();
  });

  test("a silent connection is declared dead after silenceTimeoutMs and replaced", async () => {
    const clock = new SimClock();
    const closes: string[] = [];
    const s = new ReconnectingSocket({
      url,
      clock,
      backoff,
      random: () => 0,
      silenceTimeoutMs: 30_000,
      onOpen: () => {},
      onMessage: () => {},
      onClose: (r) => closes.push(r),
    });
    await s.start();
    await clock.advance(29_999);
    expect(closes).toEqual([]);
    await clock.advance(1);
    expect(closes[0]).toMatch(/^silent for 30 s/);
    await clock.advance(0);
    await waitFor(() => s.connected, "reconnect after silence");
    expect(s.opens).toBe(2);
    await s.close();
  });

  test("a frame mid-way moves the silence deadline to that frame + silenceTimeoutMs; the drop tells the venue why", async () => {
    const clock = new SimClock();
    const events: string[] = [];
    const s = new ReconnectingSocket({
      url,
      clock,
      backoff,
      random: () => 0,
      silenceTimeoutMs: 30_000,
      onOpen: () => {},
      onMessage: (d) => events.push(d),
      onClose: (r) => events.push(`close:${r}`),
    });
    await s.start();
    const closesBefore = serverCloses.length;
    await clock.advance(20_000);
    s.send("x");
    await waitFor(() => events.includes("echo:x"), "echo at 20 s");
    // first check at 30 s sees 10 s of quiet and re-arms for the 20 s left: dead at 50 s, not before
    await clock.advance(29_999);
    expect(events.filter((e) => e.startsWith("close:"))).toEqual([]);
    await clock.advance(1);
    expect(events.filter((e) => e.startsWith("close:"))).toEqual(["close:silent for 30 s"]);
    await waitFor(() => serverCloses.length > closesBefore, "the server sees the close");
    expect(serverCloses[closesBefore]).toBe("4000 silent for 30 s");
    await s.close();
  });

  test("a refused upgrade reports its HTTP status and can stop the retries", async () => {
    const clock = new SimClock();
    const s = new ReconnectingSocket({
      url,
      clock,
      backoff,
      silenceTimeoutMs: 0,
      headers: () => ({ "x-token": "bad" }),
      onOpen: () => {},
      onMessage: () => {},
      onAttemptFailed: () => false,
    });
    const r = await s.start();
    expect(r.ok).toBe(false);
    expect(r.status).toBe(401);
    expect(clock.pending()).toBe(0);
    await s.close();
  });

  test("a stalled opening handshake (TCP accepted, upgrade never answered) times out and is retried with backoff", async () => {
    // Accepts connections and never writes a byte: without a handshake timeout the attempt never ends.
    let accepted = 0;
    const stall = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: { open: () => void accepted++, data: () => {} },
    });
    try {
      const clock = new SimClock();
      const failures: string[] = [];
      const s = new ReconnectingSocket({
        url: `ws://127.0.0.1:${stall.port}/ws`,
        clock,
        backoff,
        random: () => 0.5,
        silenceTimeoutMs: 0,
        connectTimeoutMs: 15_000,
        onOpen: () => {},
        onMessage: () => {},
        onAttemptFailed: (r) => void failures.push(r.reason ?? ""),
      });
      let first: { ok: boolean; reason?: string } | undefined;
      void s.start().then((r) => (first = r));
      await waitFor(() => accepted === 1, "first TCP accept");
      await clock.advance(14_999);
      expect(first).toBeUndefined();
      await clock.advance(1);
      await waitFor(() => first !== undefined, "first attempt to time out");
      expect(first!.ok).toBe(false);
      expect(first!.reason).toMatch(/handshake timed out after 15 s/);
      expect(failures.length).toBe(1);
      // Backoff attempt 0 with random 0.5 → 500 ms, then a second attempt reaches the server and times out as well.
      await clock.advance(500);
      await waitFor(() => accepted === 2, "second TCP accept");
      await clock.advance(15_000);
      expect(failures.length).toBe(2);
      expect(s.connected).toBe(false);
      await s.close();
      expect(clock.pending()).toBe(0);
    } finally {
      stall.stop(true);
    }
  });

  test("a throwing message handler is logged and counted; the connection carries on", async () => {
    const clock = new SimClock();
    const got: string[] = [];
    const s = new ReconnectingSocket({
      url,
      clock,
      backoff,
      silenceTimeoutMs: 0,
      onOpen: () => {},
      onMessage: (d) => {
        got.push(d);
        if (d === "echo:bad") throw new Error("handler bug");
      },
    });
    expect((await s.start()).ok).toBe(true);
    s.send("bad");
    await waitFor(() => got.length === 1, "first message");
    s.send("good");
    await waitFor(() => got.length === 2, "second message");
    expect(got).toEqual(["echo:bad", "echo:good"]);
    expect(s.handlerErrors).toBe(1);
    expect(s.connected).toBe(true);
    expect(s.opens).toBe(1);
    await s.close();
  });
});
