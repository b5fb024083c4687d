/**
 * ReconnectingSocket driven by a scripted WebSocket (no network): late events from a replaced connection, pong
 * frames as liveness, sends and reconnects outside an open connection, timers left behind by close(), a constructor
 * that throws, the handshake timeout's text and its cancellation on open, the backoff reset after a stable
 * connection, OpenGate edges.
 */
import { describe, expect, test } from "bun:test";
import { SimClock, settle } from "../../src/clock.ts";
import { OpenGate, ReconnectingSocket, type ReconnectingSocketOptions } from "../../src/venue/_socket.ts";

type Listener = (e: unknown) => void;

/** Records what the socket does to it; the test fires its events when it chooses. */
class ScriptedWs {
  readyState = 0;
  binaryType = "nodebuffer";
  readonly sent: string[] = [];
  readonly closes: string[] = [];
  private readonly listeners = new Map<string, Listener[]>();
  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  send(text: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(text);
  }
  close(code?: number, reason?: string): void {
    this.closes.push(`${code ?? "-"} ${reason ?? ""}`.trim());
    this.readyState = 2;
  }
  emit(type: string, e: unknown = {}): void {
    if (type === "open") this.readyState = 1;
    if (type === "close") this.readyState = 3;
    for (const fn of this.listeners.get(type) ?? []) fn(e);
  }
}

/** A WebSocket constructor handing out ScriptedWs instances, each kept in `made` in creation order. */
function scripted(): { Impl: typeof WebSocket; made: ScriptedWs[] } {
  const made: ScriptedWs[] = [];
  const Impl = function (this: unknown) {
    const ws = new ScriptedWs();
    made.push(ws);
    return ws;
  } as unknown as typeof WebSocket;
  return { Impl, made };
}

const backoff = { baseMs: 1000, capMs: 8000, resetAfterMs: 60_000 };

/** A started socket on a SimClock over scripted WebSockets, recording onOpen/onMessage/onClose as strings. */
function rig(extra: Partial<ReconnectingSocketOptions> = {}) {
  const clock = new SimClock();
  const { Impl, made } = scripted();
  const events: string[] = [];
  const s = new ReconnectingSocket({
    url: "ws://scripted",
    clock,
    backoff,
    random: () => 0.5, // attempt 0 → 500 ms
    silenceTimeoutMs: 0,
    connectTimeoutMs: 0,
    WebSocketImpl: Impl,
    onOpen: () => events.push("open"),
    onMessage: (d) => events.push(`msg:${d}`),
    onClose: (r) => events.push(`close:${r}`),
    ...extra,
  });
  return { clock, made, events, s };
}

describe("ReconnectingSocket with a scripted WebSocket", () => {
  test("a replaced connection's late close event does not drop its successor", async () => {
    const { clock, made, events, s } = rig();
    void s.start();
    made[0].emit("open");
    s.reconnect("protocol state lost");
    expect(made[0].closes).toEqual(["4000 protocol state lost"]);
    expect(events).toEqual(["open", "close:protocol state lost"]);
    await clock.advance(500);
    expect(made.length).toBe(2);
    made[1].emit("open");
    // the first connection's close event arrives only now, after its successor opened
    made[0].emit("close", { code: 4000, reason: "protocol state lost" });
    made[0].emit("message", { data: "stale" });
    expect(events).toEqual(["open", "close:protocol state lost", "open"]);
    expect(s.connected).toBe(true);
    expect(made[1].closes).toEqual([]);
    expect(s.send("hello")).toBe(true);
    expect(made[1].sent).toEqual(["hello"]);
    await s.close();
    expect(made[1].closes).toEqual(["1000 closing"]);
  });

  test("pong frames alone keep a connection alive past silenceTimeoutMs; without them it is dropped", async () => {
    const { clock, made, events, s } = rig({ silenceTimeoutMs: 30_000 });
    void s.start();
    made[0].emit("open");
    for (let i = 0; i < 4; i++) {
      await clock.advance(20_000);
      made[0].emit("pong");
    }
    expect(events).toEqual(["open"]);
    await clock.advance(29_999);
    expect(events).toEqual(["open"]);
    await clock.advance(1);
    expect(events).toEqual(["open", "close:silent for 30 s"]);
    await s.close();
  });

  test("a silence limit of 1 ms is a limit, not 'disabled'", async () => {
    const { clock, made, events, s } = rig({ silenceTimeoutMs: 1 });
    void s.start();
    made[0].emit("open");
    await clock.advance(1);
    expect(events).toEqual(["open", "close:silent for 0 s"]);
    await s.close();
  });

  test("send() is refused before the connection opens and after close(), and nothing reaches the socket", async () => {
    const { made, s } = rig();
    void s.start();
    expect(made.length).toBe(1);
    expect(s.send("early")).toBe(false);
    made[0].emit("open");
    expect(s.send("now")).toBe(true);
    await s.close();
    expect(s.send("late")).toBe(false);
    expect(made[0].sent).toEqual(["now"]);
  });

  test("reconnect() on a socket never started does nothing", () => {
    const { clock, events, s } = rig();
    s.reconnect("nothing to drop");
    expect(events).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  test("reconnect() after close() does nothing", async () => {
    const { clock, made, events, s } = rig();
    void s.start();
    made[0].emit("open");
    await s.close();
    s.reconnect("after close");
    expect(events).toEqual(["open"]);
    expect(clock.pending()).toBe(0);
    await clock.advance(60_000);
    expect(made.length).toBe(1);
  });

  test("close() while the handshake is pending cancels its timeout timer", async () => {
    const { clock, made, s } = rig({ connectTimeoutMs: 15_000 });
    let first: { ok: boolean; reason?: string } | undefined;
    void s.start().then((r) => (first = r));
    expect(clock.pending()).toBe(1);
    await s.close();
    await settle();
    expect(first).toEqual({ ok: false, reason: "closed" });
    expect(made[0].closes).toEqual(["1000 closing"]);
    expect(clock.pending()).toBe(0);
  });

  test("close() called from onClose leaves no retry timer behind", async () => {
    let self: ReconnectingSocket | undefined;
    const { clock, made, s } = rig({ onClose: () => void self?.close() });
    self = s;
    void s.start();
    made[0].emit("open");
    made[0].emit("close", { code: 1001, reason: "going away" });
    expect(clock.pending()).toBe(0);
    await clock.advance(60_000);
    expect(made.length).toBe(1);
  });

  test("close() called from onAttemptFailed leaves no retry timer behind", async () => {
    let self: ReconnectingSocket | undefined;
    const { clock, made, s } = rig({ onAttemptFailed: () => void self?.close() });
    self = s;
    void s.start();
    made[0].emit("close", { code: 1006, reason: "" });
    expect(clock.pending()).toBe(0);
    await clock.advance(60_000);
    expect(made.length).toBe(1);
  });
});

describe("ReconnectingSocket attempts, handshake timeout and backoff", () => {
  test("close() on an open connection leaves it disconnected", async () => {
    const { made, s } = rig();
    void s.start();
    made[0].emit("open");
    expect(s.connected).toBe(true);
    await s.close();
    expect(s.connected).toBe(false);
  });

  test("a WebSocket constructor that throws is a failed attempt: first result, onAttemptFailed, retry after backoff", async () => {
    const { Impl, made } = scripted();
    let calls = 0;
    const Throwing = function (this: unknown, ...args: unknown[]) {
      if (calls++ === 0) throw new Error("bad url");
      return new (Impl as unknown as new (...a: unknown[]) => unknown)(...args);
    } as unknown as typeof WebSocket;
    const failures: string[] = [];
    const { clock, events, s } = rig({
      WebSocketImpl: Throwing,
      onAttemptFailed: (r) => void failures.push(r.reason ?? ""),
    });
    let first: { ok: boolean; reason?: string } | undefined;
    void s.start().then((r) => (first = r));
    await settle();
    expect(first).toEqual({ ok: false, reason: "bad url" });
    expect(failures).toEqual(["bad url"]);
    expect(made.length).toBe(0);
    // backoff attempt 0 with random 0.5 → 500 ms
    await clock.advance(499);
    expect(made.length).toBe(0);
    await clock.advance(1);
    expect(made.length).toBe(1);
    made[0].emit("open");
    expect(events).toEqual(["open"]);
    await s.close();
  });

  test("the handshake timeout's reason gives the limit in whole seconds, rounded (1.5 s → 2 s)", async () => {
    const failures: string[] = [];
    const { clock, made, s } = rig({
      connectTimeoutMs: 1500,
      onAttemptFailed: (r) => void failures.push(r.reason ?? ""),
    });
    let first: { ok: boolean; reason?: string } | undefined;
    void s.start().then((r) => (first = r));
    await clock.advance(1499);
    expect(first).toBeUndefined();
    await clock.advance(1);
    expect(first).toEqual({ ok: false, reason: "opening handshake timed out after 2 s" });
    expect(failures).toEqual(["opening handshake timed out after 2 s"]);
    expect(made[0].closes).toEqual(["-"]);
    await s.close();
  });

  test("an open cancels the handshake timer: no timer is left, and the connection outlives the limit", async () => {
    const { clock, made, events, s } = rig({ connectTimeoutMs: 15_000 });
    void s.start();
    expect(clock.pending()).toBe(1);
    made[0].emit("open");
    expect(clock.pending()).toBe(0); // no silence watchdog, no keepalive: nothing else is armed
    await clock.advance(15_000);
    expect(s.connected).toBe(true);
    expect(events).toEqual(["open"]);
    expect(made[0].closes).toEqual([]);
    await s.close();
  });

  test("a connection up for resetAfterMs resets the backoff; one dropped sooner does not", async () => {
    // random 0.5: attempt n waits 0.5 × min(8000, 1000 · 2^n) ms → 500, 1000, 2000, 4000…
    const { clock, made, s } = rig();
    void s.start();
    made[0].emit("close", { code: 1006, reason: "" }); // attempt 0 failed → 500 ms
    await clock.advance(500);
    expect(made.length).toBe(2);
    made[1].emit("close", { code: 1006, reason: "" }); // attempt 1 failed → 1000 ms
    await clock.advance(999);
    expect(made.length).toBe(2);
    await clock.advance(1);
    expect(made.length).toBe(3);
    made[2].emit("open");
    await clock.advance(60_000); // exactly resetAfterMs
    made[2].emit("close", { code: 1001, reason: "going away" });
    // reset: attempt 0 again → 500 ms (without the reset it would be attempt 2 → 2000 ms)
    await clock.advance(499);
    expect(made.length).toBe(3);
    await clock.advance(1);
    expect(made.length).toBe(4);
    made[3].emit("open");
    await clock.advance(59_999); // 1 ms short of resetAfterMs
    made[3].emit("close", { code: 1001, reason: "going away" });
    // no reset: attempt 1 → 1000 ms
    await clock.advance(999);
    expect(made.length).toBe(4);
    await clock.advance(1);
    expect(made.length).toBe(5);
    await s.close();
  });
});

describe("OpenGate", () => {
  test("a start exactly pauseMs after the last one goes at once; one 1 ms early waits that 1 ms", async () => {
    const clock = new SimClock();
    const gate = new OpenGate(clock, 1000);
    const order: string[] = [];
    await gate.acquire();
    await clock.advance(999);
    void gate.acquire().then(() => order.push("b"));
    await settle();
    expect(order).toEqual([]);
    await clock.advance(1);
    expect(order).toEqual(["b"]);
    // b started at 1000: a request at 2000 is due then and needs no timer
    await clock.advance(1000);
    void gate.acquire().then(() => order.push("c"));
    await settle();
    expect(order).toEqual(["b", "c"]);
    expect(clock.pending()).toBe(0);
  });
});
