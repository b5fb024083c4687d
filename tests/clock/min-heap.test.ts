/** The binary min-heap behind SimClock timers, snapshot due times and scoring: pops against a stable sort. */
import { describe, expect, test } from "bun:test";
import { MinHeap } from "../../src/min-heap.ts";
import { rng } from "../helpers/books.ts";

describe("MinHeap", () => {
  test("pops in the order of a stable sort, through random interleaved pushes and pops", () => {
    const r = rng(7);
    type X = { k: number; id: number };
    const h = new MinHeap<X>((a, b) => a.k < b.k || (a.k === b.k && a.id < b.id));
    const model: X[] = [];
    let id = 0;
    const popped: X[] = [];
    const expected: X[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (r() < 0.6 || model.length === 0) {
        const x = { k: Math.floor(r() * 50), id: id++ }; // many ties: the id decides
        h.push(x);
        model.push(x);
      } else {
        model.sort((a, b) => a.k - b.k || a.id - b.id);
        expected.push(model.shift()!);
        popped.push(h.pop()!);
      }
      expect(h.size).toBe(model.length);
    }
    expect(popped).toEqual(expected);
    const rest = h.drain();
    expect(rest.length).toBe(model.length);
    expect(h.size).toBe(0);
    expect(h.pop()).toBeUndefined();
    expect(h.peek()).toBeUndefined();
  });
});
