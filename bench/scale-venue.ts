/**
 * The loopback Polymarket for `bench/scale.bench.ts`, in a process of its own so the bench's CPU figure is the
 * collector's alone. argv: markets, updates per second. Prints `PORT n`, then `FULL <ms since start> <tokens>` once
 * every token is subscribed; from then on sends price_change frames at the given rate (entries/s over all tokens)
 * and prints `SENT <entries so far>` every second.
 */
import { PolymarketServer } from "../tests/helpers/polymarket-server.ts";

const markets = Number(process.argv[2] ?? 5556);
const rate = Number(process.argv[3] ?? 10_000);
const server = new PolymarketServer({ markets, maxAssetsPerConnection: 500, depth: 10 });
// The fixture's close dates are fixed in 2026; this runs on the real clock, so every market closes in the future.
for (const [i, m] of server.universe.entries())
  m.endDate = new Date(Date.now() + 30 * 86_400_000 + i * 60_000).toISOString();
const tokens = server.universe.filter((m) => m.acceptingOrders).length * 2;
console.log(`PORT ${server.port}`);

const t0 = performance.now();
let full = false;
/** Per connection: its tokens, with their market and the best prices the updates stay behind (books never cross). */
type Tok = { asset: string; market: string; bid: number; ask: number };
let plan: { c: typeof server.conns extends Map<number, infer C> ? C : never; toks: Tok[] }[] = [];
const known = new Map<string, Tok>();

function refresh(): void {
  plan = [];
  for (const c of server.conns.values()) {
    const toks: Tok[] = [];
    for (const a of c.assets) {
      let t = known.get(a);
      if (!t) {
        const b = server.book(a);
        const bid = Math.max(...[...b.bids.keys()].map(Number));
        const ask = Math.min(...[...b.asks.keys()].map(Number));
        t = { asset: a, market: b.market, bid: Math.round(bid * 100), ask: Math.round(ask * 100) };
        known.set(a, t);
      }
      toks.push(t);
    }
    if (toks.length > 0) plan.push({ c, toks });
  }
}

let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

const TICK_MS = 50;
let carry = 0;
let sent = 0;
setInterval(() => full && console.log(`SENT ${sent}`), 1000);
setInterval(() => {
  if (!full) {
    let n = 0;
    for (const c of server.conns.values()) n += c.assets.size;
    if (n >= tokens) {
      full = true;
      console.log(`FULL ${Math.round(performance.now() - t0)} ${n}`);
      refresh();
    }
    return;
  }
  carry += (rate * TICK_MS) / 1000;
  const n = Math.floor(carry);
  carry -= n;
  if (plan.length === 0) return;
  const ts = String(Date.now());
  const perConn = new Map<number, unknown[]>();
  for (let k = 0; k < n; ) {
    const p = plan[Math.floor(rand() * plan.length)];
    const t = p.toks[Math.floor(rand() * p.toks.length)];
    const changes = [];
    // 1-3 entries for one token's market: levels at or behind the best on either side, some removals.
    const m = Math.min(n - k, 1 + Math.floor(rand() * 3));
    for (let j = 0; j < m; j++, k++) {
      const bid = rand() < 0.5;
      const cents = bid ? t.bid - Math.floor(rand() * 8) : t.ask + Math.floor(rand() * 8);
      const size = rand() < 0.2 ? "0" : String(1 + Math.floor(rand() * 900));
      changes.push({
        asset_id: t.asset,
        price: (Math.min(99, Math.max(1, cents)) / 100).toFixed(2),
        size,
        side: bid ? "BUY" : "SELL",
        hash: "0xabc",
        best_bid: "0",
        best_ask: "1",
      });
    }
    const list = perConn.get(p.c.id) ?? [];
    list.push({ market: t.market, price_changes: changes, timestamp: ts, event_type: "price_change" });
    perConn.set(p.c.id, list);
  }
  sent += n;
  for (const p of plan) {
    const msgs = perConn.get(p.c.id);
    if (msgs) p.c.ws.send(JSON.stringify(msgs.length === 1 ? msgs[0] : msgs));
  }
}, TICK_MS);
setInterval(() => full && refresh(), 5000); // a reconnected socket is a new connection object
