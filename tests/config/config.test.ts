/** parseConfig: defaults, venue overrides, refusals naming the key, --venue selection. */
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";
import { configRefusal } from "../helpers/refusal.ts";

describe("parseConfig", () => {
  test("defaults when empty: mock enabled, documented values", () => {
    const c = parseConfig({});
    expect(c.selected.map((v) => v.name)).toEqual(["mock"]);
    expect(c.selected[0].collect.max_subs_per_venue).toBe(200);
    expect(c.selected[0].collect.hot_count).toBe(40);
    expect(c.writer.flush_rows).toBe(50_000);
    expect(c.writer.bucket_minutes).toBe(5);
    expect(c.top_k).toBe(50);
  });

  test("venue section overrides the global collector value", () => {
    const c = parseConfig({
      collector: { hot_count: 10 },
      venues: { mock: { hot_count: 5 }, kalshi: { enabled: true } },
    });
    expect(c.venues.find((v) => v.name === "mock")!.collect.hot_count).toBe(5);
    expect(c.venues.find((v) => v.name === "kalshi")!.collect.hot_count).toBe(10);
  });

  test.each([
    [{ top_k: "fifty" }, "top_k", "Expected number"],
    [{ collector: { rotation_period_secs: -5 } }, "collector.rotation_period_secs", "≥ 1"],
    [{ venues: { mock: { hot_count: 300 } } }, "venues.mock.hot_count", "max_subs_per_venue"],
    [{ writer: { bucket_minutes: 7 } }, "writer.bucket_minutes", "divide 60"],
    [{ venues: { "Bad-Name": { kind: "mock" } } }, "venues.Bad-Name", "[a-z0-9_]+"],
    [{ venues: { nowhere: {} } }, "venues.nowhere.kind", "no adapter"],
    [{ venues: { kalshi: { key_id_env: "not a name" } } }, "venues.kalshi.key_id_env", "environment variable"],
  ])("refuses %j naming %s", (doc, key, reason) => {
    const e = configRefusal(doc);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`${key} =`);
    expect(e.message).toContain(reason);
  });

  test("--venue selects a venue that is disabled in the file", () => {
    const c = parseConfig({ venues: { mock: { enabled: true }, kalshi: { enabled: false } } }, "t", {
      venues: ["kalshi"],
    });
    expect(c.selected.map((v) => v.name)).toEqual(["kalshi"]);
  });

  test("--venue with an unknown name is a usage error", () => {
    expect(() => parseConfig({}, "t", { venues: ["nasdaq"] })).toThrow(UserError);
  });
});
