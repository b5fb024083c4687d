/**
 * Kalshi error code 6 ("already subscribed", seen in older captures) answering an add_markets: harmless for the
 * set it answers. The tickers stream, none is refused, no venue error is raised and the add is not sent again.
 */
import { expect, test } from "bun:test";
import type { VenueEvent } from "../../src/venue/types.ts";
import { waitFor } from "../helpers/wait.ts";
import { kalshiLoopback } from "../helpers/kalshi-loopback.ts";

const { clock, server, openAdapter } = kalshiLoopback(20);

const refs = (ts: string[]) => ts.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));

test("an add_markets answered with code 6 is taken as done: books stream, nothing refused, no venue error", async () => {
  const a = await openAdapter();
  const list: VenueEvent[] = [];
  await a.connect((e) => void list.push(e));
  const [first, ...more] = server.openTickers.slice(0, 4);
  a.subscribe(refs([first]));
  await waitFor(() => server.subscribed().has(first), "the first subscribe");
  server.alreadySubscribedNext(1);
  const before = server.commands.length;
  a.subscribe(refs(more));
  const books = (t: string) => list.filter((e) => e.kind === "book" && e.marketId === t).length;
  await waitFor(() => more.every((t) => books(t) === 2) && a.feed.refusals.idle(), "the added books");
  await waitFor(() => list.some((e) => e.kind === "info" && e.type === "already_subscribed"), "the code-6 reply");
  // time passes: a refusal search or a retry of a "lost" command would send the add again
  for (let i = 0; i < 5; i++) await clock.advance(60_000);
  const adds = server.commands.slice(before).filter((c) => c.params.action === "add_markets");
  expect(adds.length).toBe(1);
  expect(list.filter((e) => e.kind === "refused" || e.kind === "venue_error")).toEqual([]);
});
