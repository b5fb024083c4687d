/**
 * The Kalshi feed against the loopback venue where mutation testing found nothing watching: which kind of failed
 * reconnect is a login refusal, replies on a stray sid, the timer a refused ticker's retry leaves for close(), and a
 * probe whose ticker left the targets while it was unanswered.
 */
import { describe, expect, test } from "bun:test";
import { PROBE_REPLY_TIMEOUT_MS } from "../../src/venue/kalshi/refusals.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { kalshiLoopback } from "../helpers/kalshi-loopback.ts";
import { waitFor } from "../helpers/wait.ts";

const { clock, server, openAdapter } = kalshiLoopback(20);

async function connected() {
  const a = await openAdapter({ reconnect_base_ms: 1000, reconnect_cap_ms: 2000, reconnect_max_per_minute: 1000 });
  const ev: VenueEvent[] = [];
  await a.connect((e) => void ev.push(e));
  return { a, ev };
}

/** Advances the clock in 100 ms steps, letting each reconnect attempt reach the server, until `pred` holds. */
async function driveUntil(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !pred(); i++) {
    const n = server.upgradeAttempts.length;
    await clock.advance(100);
    if (clock.nextAt() === undefined) await waitFor(() => server.upgradeAttempts.length > n, "the attempt");
    await Bun.sleep(0);
  }
  if (!pred()) throw new Error(`not reached in 60 simulated s: ${what}`);
}

/** The feed's warning lines from now on (its own tagged logger, so nothing else is touched). */
function warnings(a: { feed: unknown }): string[] {
  const lines: string[] = [];
  (a.feed as { log: { warn: (m: string) => void } }).log.warn = (m) => void lines.push(m);
  return lines;
}

const errors = (ev: VenueEvent[]) => ev.flatMap((e) => (e.kind === "venue_error" ? [e] : []));

describe("kalshi feed faults", () => {
  test("mid-run, a 503 on reconnect is connect_failed and a 401 is auth_refused (with the advice); both are retried", async () => {
    const { ev } = await connected();
    server.refuseUpgrades(503);
    server.drop();
    await driveUntil(() => errors(ev).length >= 2, "two failed attempts");
    expect(errors(ev).map((e) => e.reason)).toEqual(["connect_failed", "connect_failed"]);
    server.refuseUpgrades(401);
    const from = errors(ev).length;
    await driveUntil(() => errors(ev).length >= from + 2, "two refused logins");
    const refused = errors(ev).slice(from);
    expect(refused.map((e) => e.reason)).toEqual(["auth_refused", "auth_refused"]);
    expect(refused[0].detail).toContain("that this machine's clock is right");
    server.refuseUpgrades(null);
    const connects = ev.filter((e) => e.kind === "connection" && e.state === "connected").length;
    await driveUntil(
      () => ev.filter((e) => e.kind === "connection" && e.state === "connected").length > connects,
      "the reconnect",
    );
  });

  test("a reply on an sid that is not ours is dropped as a foreign frame, not checked as our seq", async () => {
    const { a, ev } = await connected();
    a.subscribe([{ market_id: server.openTickers[0], outcome_ids: ["yes", "no"] }]);
    await waitFor(() => ev.filter((e) => e.kind === "book").length === 2, "the snapshot");
    const from = ev.length;
    server.sendRaw(JSON.stringify({ id: 999, type: "ok", sid: 4242, seq: 7, msg: {} }));
    await waitFor(() => ev.length > from, "the reply handled");
    expect(ev.slice(from)).toEqual([{ kind: "info", type: "foreign_sid" }]);
    expect(a.feed.foreignFrames).toBe(1);
  });

  test("an error reply is logged with the command and its id", async () => {
    const { a, ev } = await connected();
    const warned = warnings(a);
    server.failNext(1, 9, "Internal error");
    a.subscribe([{ market_id: server.openTickers[0], outcome_ids: ["yes", "no"] }]);
    await waitFor(() => errors(ev).length === 1, "the error reply");
    const id = server.commands.findLast((c) => c.cmd === "subscribe")!.id;
    expect(warned).toContain(`error reply to subscribe (id ${id}): code 9 Internal error`);
  });

  test("close() with a refused ticker's retry pending leaves no timer behind", async () => {
    const { a, ev } = await connected();
    a.subscribe([{ market_id: "KXNOPE-GONE", outcome_ids: ["yes", "no"] }]);
    const warned = warnings(a);
    await waitFor(() => ev.some((e) => e.kind === "refused"), "the refusal");
    expect(warned.filter((l) => l.startsWith("the venue refused"))).toEqual([
      "the venue refused 1 market (code 16 Market not found): KXNOPE-GONE; not asked again until they leave and re-enter the targets, or for 60 min",
    ]);
    expect(clock.pending()).toBe(2); // the retry an hour from now, and the socket's silence watchdog
    await a.close();
    expect(clock.pending()).toBe(0);
  });

  test("a probe unanswered while its ticker leaves the targets: not sent again, and its late ok is undone", async () => {
    const { a } = await connected();
    const [h, g] = server.openTickers;
    const refs = (ts: string[]) => ts.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
    const probeOfG = (c: { params: Record<string, unknown> }) =>
      c.params.action === "add_markets" && JSON.stringify(c.params.market_tickers) === JSON.stringify([g]);
    a.subscribe(refs([h])); // the sid
    await waitFor(() => server.subscribed().has(h), "the sid");
    // [g, bad] is refused; its probe [g] is handled (and answered) by the venue only 10 min later
    server.delayNext(probeOfG, 600_000);
    a.subscribe(refs([g, "KXNOPE-LATE"]));
    await waitFor(() => server.commands.some(probeOfG), "the probe of [g]");
    a.unsubscribe(refs([g]));
    await server.barrier();
    const from = server.commands.length;
    await clock.advance(PROBE_REPLY_TIMEOUT_MS + 1); // the probe is given up: g is no longer wanted, so not re-sent
    await waitFor(() => a.feed.refusals.idle(), "the search to end");
    await server.barrier();
    expect(server.commands.slice(from).filter(probeOfG)).toEqual([]);
    expect(server.subscribed().has(g)).toBe(false);
    // the venue handles the first probe at last and answers ok: g, not a target, is deleted again
    await clock.advance(600_000);
    await waitFor(
      () => server.commands.slice(from).some((c) => c.params.action === "delete_markets"),
      "the late ok undone",
    );
    await server.barrier();
    expect(server.subscribed()).toEqual(new Set([h]));
  });

  test("targets changed while a paused search holds the only subscription: additions wait their turn, deletions are not sent", async () => {
    const { a } = await connected();
    const [g, h, k] = server.openTickers.slice(5);
    const refs = (ts: string[]) => ts.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
    server.failNext(1, 9, "Internal error"); // the first subscribe fails for the venue's reason: retried after 30 s
    a.subscribe(refs([g, k]));
    await waitFor(() => !a.feed.refusals.idle(), "the failed subscribe");
    a.subscribe(refs([h]));
    a.unsubscribe(refs([k]));
    await server.barrier();
    await clock.advance(30_000);
    await waitFor(() => a.feed.refusals.idle() && server.subscribed().size === 2, "the retried probes");
    await server.barrier();
    expect(server.subscribed()).toEqual(new Set([g, h]));
  });
});
