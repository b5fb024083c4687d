/** The Kalshi feed's subscription state, alone: where a change goes before and after the sid is known. */
import { describe, expect, test } from "bun:test";
import { SubscriptionState } from "../../src/venue/kalshi/subscription.ts";

describe("SubscriptionState", () => {
  test("no subscribe yet: a change goes nowhere; in flight: queued; answered: on the sid", () => {
    const s = new SubscriptionState();
    expect(s.route()).toBe("none");
    s.subscribeId = 4;
    expect(s.route()).toBe("queue");
    s.queue("add_markets", ["A", "B"]);
    s.queue("delete_markets", ["C"]);
    expect(s.adopt(31)).toEqual({ add: ["A", "B"], del: ["C"] });
    expect([s.sid, s.subscribeId, s.route()]).toEqual([31, null, "sid"]);
    expect(s.adopt(31)).toEqual({ add: [], del: [] }); // the queues were emptied
  });

  test("an add and a delete of one ticker while queued cancel out, in either order", () => {
    const s = new SubscriptionState();
    s.subscribeId = 1;
    s.queue("add_markets", ["A", "B"]);
    s.queue("delete_markets", ["A", "X"]);
    s.queue("add_markets", ["X", "Y"]);
    expect(s.adopt(2)).toEqual({ add: ["B", "Y"], del: [] });
  });

  test("a failed subscribe hands back the queued additions; deletions are moot", () => {
    const s = new SubscriptionState();
    s.subscribeId = 9;
    s.queue("add_markets", ["A"]);
    s.queue("delete_markets", ["Z"]);
    expect(s.subscribeFailed()).toEqual(["A"]);
    expect(s.route()).toBe("none");
    s.subscribeId = 10;
    expect(s.adopt(3)).toEqual({ add: [], del: [] });
  });

  test("a lost connection forgets the sid and the subscribe in flight; a reset also the queues", () => {
    const s = new SubscriptionState();
    s.subscribeId = 1;
    s.queue("add_markets", ["A"]);
    s.lost();
    expect([s.sid, s.subscribeId, s.route()]).toEqual([null, null, "none"]);
    s.reset();
    s.subscribeId = 2;
    expect(s.adopt(5)).toEqual({ add: [], del: [] });
  });
});
