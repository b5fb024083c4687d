/**
 * A venue-agnostic reconnecting WebSocket: backoff with jitter (backoff.ts), a silence watchdog, an optional
 * keepalive message, fresh upgrade headers per attempt. It knows nothing of subscriptions or books; the venue's
 * feed re-sends its subscriptions from `onOpen`. Every timer runs on the injected clock.
 */
import type { Clock, Timer } from "../clock.ts";
import { logger } from "../log.ts";
import { Backoff, type BackoffSettings } from "./backoff.ts";

export interface SocketAttemptResult {
  ok: boolean;
  /** HTTP status of a refused upgrade (401, 429…), when the runtime tells it. */
  status?: number;
  reason?: string;
}

export interface ReconnectingSocketOptions {
  url: string;
  clock: Clock;
  backoff: BackoffSettings;
  random?: () => number;
  /** No frame at all (data, ping or pong) for this long: the connection is dead and is replaced. 0 disables. */
  silenceTimeoutMs: number;
  /** An opening handshake not finished after this long is abandoned and retried with backoff (a server that accepts
   * TCP but never answers the upgrade would otherwise leave the attempt pending forever). Default 15 s; 0 disables. */
  connectTimeoutMs?: number;
  /** Headers of the upgrade request, computed per attempt (signatures carry a timestamp). */
  headers?: () => Record<string, string>;
  /** Application-level keepalive sent on a period (Polymarket's "PING"); servers' ping frames are answered by Bun. */
  keepalive?: { intervalMs: number; message: string };
  onOpen: () => void;
  onMessage: (data: string) => void;
  /** The open connection was lost (drop, silence, server close). A reconnect is already scheduled. */
  onClose?: (reason: string) => void;
  /** An attempt failed before opening (refused upgrade, network). Return false to stop retrying. */
  onAttemptFailed?: (r: SocketAttemptResult) => boolean | void;
  /** Injectable for tests; defaults to the global WebSocket. */
  WebSocketImpl?: typeof WebSocket;
  /** Awaited before every attempt (e.g. an OpenGate shared by a venue's connections, so opens never burst). */
  beforeAttempt?: () => Promise<void>;
}

/** Spaces out connection attempts: at most one start per `pauseMs` across everything sharing the gate, in call order. */
export class OpenGate {
  private nextAt = -Infinity;
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly clock: Clock,
    private readonly pauseMs: number,
  ) {}
  acquire(): Promise<void> {
    const turn = this.chain.then(async () => {
      const wait = this.nextAt - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      this.nextAt = this.clock.now() + this.pauseMs;
    });
    this.chain = turn.catch(() => {});
    return turn;
  }
}

const decoder = new TextDecoder();
const log = logger("socket");
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

export class ReconnectingSocket {
  private ws: WebSocket | null = null;
  private gen = 0;
  private open = false;
  private stopped = false;
  private lastFrameAt = 0;
  private watchdog: Timer | null = null;
  private keepaliveTimer: Timer | null = null;
  private retryTimer: Timer | null = null;
  private connectTimer: Timer | null = null;
  private readonly backoff: Backoff;
  private firstResult: ((r: SocketAttemptResult) => void) | null = null;
  /** Connections opened so far (1 after the first open). */
  opens = 0;
  /** Throws from onOpen/onMessage so far: logged and counted; an uncaught throw in a listener would end the process. */
  handlerErrors = 0;

  constructor(private readonly o: ReconnectingSocketOptions) {
    this.backoff = new Backoff(o.backoff, o.random);
  }

  get connected(): boolean {
    return this.open;
  }

  /** Starts connecting; resolves with the first attempt's outcome (later attempts run in the background). */
  start(): Promise<SocketAttemptResult> {
    return new Promise((resolve) => {
      this.firstResult = resolve;
      this.attempt();
    });
  }

  send(text: string): boolean {
    if (!this.open || !this.ws) return false;
    this.ws.send(text);
    return true;
  }

  /** Drops the current connection on purpose and reconnects after backoff (e.g. a protocol state we cannot repair). */
  reconnect(reason: string): void {
    if (this.stopped || !this.ws) return;
    this.lost(this.gen, reason);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    this.retryTimer?.cancel();
    const ws = this.ws;
    this.ws = null;
    this.open = false;
    this.gen++;
    if (ws && ws.readyState <= 1) ws.close(1000, "closing");
    this.resolveFirst({ ok: false, reason: "closed" });
  }

  private resolveFirst(r: SocketAttemptResult): void {
    const f = this.firstResult;
    this.firstResult = null;
    f?.(r);
  }

  private attempt(): void {
    if (this.stopped) return;
    if (this.o.beforeAttempt) void this.o.beforeAttempt().then(() => this.connectNow());
    else this.connectNow();
  }

  private connectNow(): void {
    if (this.stopped) return;
    const gen = ++this.gen;
    const Impl = this.o.WebSocketImpl ?? WebSocket;
    let ws: WebSocket;
    try {
      const headers = this.o.headers?.();
      ws = headers ? new Impl(this.o.url, { headers } as unknown as string[]) : new Impl(this.o.url);
    } catch (e) {
      this.failed(gen, { ok: false, reason: (e as Error).message });
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let opened = false;
    let failure = "";
    const limit = this.o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (limit > 0) {
      this.connectTimer = this.o.clock.setTimer(limit, () => {
        if (gen !== this.gen || opened) return;
        this.connectTimer = null;
        if (ws.readyState <= 1) ws.close(); // its close event is ignored: failed() below moves the generation on
        this.failed(gen, { ok: false, reason: `opening handshake timed out after ${Math.round(limit / 1000)} s` });
      });
    }
    ws.addEventListener("open", () => {
      if (gen !== this.gen) return;
      opened = true;
      this.cancelConnectTimer();
      this.open = true;
      this.opens++;
      this.backoff.connected(this.o.clock.now());
      this.touch();
      this.armWatchdog(gen);
      this.armKeepalive(gen);
      this.resolveFirst({ ok: true });
      this.guard("open", () => this.o.onOpen());
    });
    ws.addEventListener("message", (e: MessageEvent) => {
      if (gen !== this.gen) return;
      this.touch();
      const d = e.data;
      this.guard("message", () => this.o.onMessage(typeof d === "string" ? d : decoder.decode(d as ArrayBuffer)));
    });
    // Bun's client emits ping/pong events for control frames; they prove the connection is alive.
    ws.addEventListener("ping" as "open", () => gen === this.gen && this.touch());
    ws.addEventListener("pong" as "open", () => gen === this.gen && this.touch());
    ws.addEventListener("error", (e: Event) => {
      failure = (e as ErrorEvent).message ?? "websocket error";
    });
    ws.addEventListener("close", (e: CloseEvent) => {
      if (gen !== this.gen) return;
      if (opened) this.lost(gen, `closed by peer (${e.code}${e.reason ? ` ${e.reason}` : ""})`);
      else
        this.failed(gen, { ok: false, status: statusOf(failure), reason: failure || `closed before open (${e.code})` });
    });
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.handlerErrors++;
      log.error(`${what} handler failed (${this.o.url}): ${(e as Error)?.stack ?? String(e)}`);
    }
  }

  private touch(): void {
    this.lastFrameAt = this.o.clock.now();
  }

  private armWatchdog(gen: number): void {
    const limit = this.o.silenceTimeoutMs;
    if (limit <= 0) return;
    const check = () => {
      if (gen !== this.gen || !this.open) return;
      const quiet = this.o.clock.now() - this.lastFrameAt;
      if (quiet >= limit) this.lost(gen, `silent for ${Math.round(quiet / 1000)} s`);
      else this.watchdog = this.o.clock.setTimer(limit - quiet, check);
    };
    this.watchdog = this.o.clock.setTimer(limit, check);
  }

  private armKeepalive(gen: number): void {
    const k = this.o.keepalive;
    if (!k) return;
    const tick = () => {
      if (gen !== this.gen || !this.open) return;
      this.ws?.send(k.message);
      this.keepaliveTimer = this.o.clock.setTimer(k.intervalMs, tick);
    };
    this.keepaliveTimer = this.o.clock.setTimer(k.intervalMs, tick);
  }

  private cancelConnectTimer(): void {
    this.connectTimer?.cancel();
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.cancelConnectTimer();
    this.watchdog?.cancel();
    this.keepaliveTimer?.cancel();
    this.watchdog = this.keepaliveTimer = null;
  }

  /** An open connection ended: tell the feed, then retry after backoff. */
  private lost(gen: number, reason: string): void {
    if (gen !== this.gen) return;
    this.gen++;
    this.open = false;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(4000, reason.slice(0, 100));
    this.o.onClose?.(reason);
    this.schedule();
  }

  private failed(gen: number, r: SocketAttemptResult): void {
    if (gen !== this.gen) return;
    this.gen++;
    this.cancelConnectTimer();
    this.ws = null;
    const keepTrying = this.o.onAttemptFailed?.(r) !== false;
    this.resolveFirst(r);
    if (keepTrying) this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.backoff.failed(this.o.clock.now());
    this.retryTimer = this.o.clock.setTimer(delay, () => this.attempt());
  }
}

/** Bun reports a refused upgrade as "...Expected 101 status code: 401"; other runtimes may not say. */
function statusOf(message: string): number | undefined {
  const m = /status code:?\s*(\d{3})/i.exec(message);
  return m ? Number(m[1]) : undefined;
}
