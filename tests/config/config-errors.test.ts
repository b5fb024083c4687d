/** Config errors a user can act on: the unknown key named as the key with a "did you mean", TOML syntax errors with line and column. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closestName, editDistance, tomlSyntaxError } from "../../src/config-errors.ts";
import { parseToml } from "../../src/config.ts";
import { configRefusal, refusal } from "../helpers/refusal.ts";
import { runCli } from "../helpers/run-cli.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("unknown keys", () => {
  test("the key path is named as the key (its value not shown), with the nearest key of that table", () => {
    const e = configRefusal({ metrics: { listn: "127.0.0.1:9464" } });
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe("t.toml: metrics.listn: unknown key; did you mean metrics.listen?");
  });

  test.each([
    [{ writer: { flush_sec: 5 } }, "writer.flush_sec: unknown key; did you mean writer.flush_secs?"],
    [{ collector: { hot_cuont: 5 } }, "collector.hot_cuont: unknown key; did you mean collector.hot_count?"],
    [
      { venues: { mock: { universe_sise: 9 } } },
      "venues.mock.universe_sise: unknown key; did you mean venues.mock.universe_size?",
    ],
    // a kalshi section is checked against the kalshi adapter's keys, not the mock's
    [
      { venues: { kalshi: { key_id_nev: "K" } } },
      "venues.kalshi.key_id_nev: unknown key; did you mean venues.kalshi.key_id_env?",
    ],
    [{ datadir: "d" }, "datadir: unknown key; did you mean data_dir?"],
    [{ metrix: { listen: "" } }, "[metrix]: unknown table; did you mean [metrics]?"],
  ])("%j: %s", (doc, expected) => {
    const e = configRefusal(doc);
    expect(e.message).toBe(`t.toml: ${expected}`);
    expect(e.exitCode).toBe(2);
  });

  test("no suggestion for a key like none of the table's; the advice lists them", () => {
    const e = configRefusal({ metrics: { zzzzzzzz: 1 } });
    expect(e.message).toBe("t.toml: metrics.zzzzzzzz: unknown key");
    expect(e.advice).toContain("The keys of [metrics]: listen, log_interval_secs");
  });

  test("a mistyped venue section name suggests the adapter it was meant for", () => {
    const e = configRefusal({ venues: { kalsh: { enabled: true } } });
    expect(e.message).toContain("venues.kalsh.kind");
    expect(e.message).toContain("did you mean [venues.kalshi]?");
  });

  test("edit distance: insertions, deletions, substitutions and a swap of neighbours count one each", () => {
    expect(editDistance("listn", "listen")).toBe(1);
    expect(editDistance("listen", "lsiten")).toBe(1);
    expect(editDistance("flush_rows", "flush_secs")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(closestName("lsiten", ["listen", "log_interval_secs"])).toBe("listen");
    expect(closestName("bogus", ["listen", "log_interval_secs"])).toBeUndefined();
  });
});

describe("TOML syntax errors", () => {
  test.each([
    // a value missing after '='
    ["a = 1\n[collector]\nhot_count =\n", 3, 12, "Missing value"],
    // an unterminated table header
    ["top_k = 5\n\n[writer\nflush_rows = 1\n", 3, 8, "close a table header"],
    // an unquoted string, indented
    ["[metrics]\n  listen = 127.0.0.1:9464\n", 2, 17, "Unexpected character after a value"],
    // an array left open: found on the line after it
    ['[venues.mock]\npin = ["a", "b"\nseed = 3\n', 3, 1, "Expected ',' or ']'"],
    // a key defined twice
    ["top_k = 5\ntop_k = 6\n", 2, 9, "Cannot redefine key 'top_k'"],
  ])("%j: line %d, column %d", (text, line, column, reason) => {
    const e = tomlSyntaxError(text)!;
    expect(e).toMatchObject({ line, column });
    expect(e.reason).toContain(reason);
    expect(e.reason).not.toContain("TOML Parse error");
    const u = refusal(() => parseToml(text, "s.toml"));
    expect(u.exitCode).toBe(2);
    expect(u.message).toStartWith(`s.toml: not valid TOML at line ${line}, column ${column}: `);
    expect(u.advice).toBe(`Fix line ${line} and run again; nothing was written.`);
  });

  test("a long file is searched by bisection; one far larger than any config gets the reason alone", () => {
    // 200 tables of 5 keys (the shipped config has about 100 keys), the error on the last line
    const body = Array.from({ length: 200 }, (_, t) => `[t${t}]\n${"abcde".replace(/./g, (k) => `${k} = 1\n`)}`);
    const long = `${body.join("")}[last]\nk = tru\n`;
    let t = performance.now();
    expect(tomlSyntaxError(long)).toMatchObject({ line: 1202, column: 7 });
    expect(performance.now() - t).toBeLessThan(1000);
    const big = `${"# a comment line to make the file long\n".repeat(1000)}bad = = 1\n`;
    t = performance.now();
    expect(tomlSyntaxError(big)).toEqual({ reason: "Expected a value but found '='" });
    expect(refusal(() => parseToml(big, "big.toml")).message).toBe(
      "big.toml: not valid TOML: Expected a value but found '='",
    );
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test("valid TOML has no syntax error; the shipped config is valid", async () => {
    expect(tomlSyntaxError("a = 1\n[b]\nc = 'd'\n")).toBeUndefined();
    const shipped = await Bun.file(join(import.meta.dir, "..", "..", "config", "surveillance.toml")).text();
    expect(tomlSyntaxError(shipped)).toBeUndefined();
  });
});

describe("through the CLI", () => {
  test("collect with a mistyped key or a syntax error: exit 2, the key or the line named, nothing written", async () => {
    const d = mkdtempSync(join(tmpdir(), "config-errors-"));
    dirs.push(d);
    const data = join(d, "data");
    writeFileSync(join(d, "typo.toml"), '[metrics]\nlistn = "127.0.0.1:9464"\n');
    writeFileSync(join(d, "syntax.toml"), "[collector]\nhot_count = = 3\n");
    const typo = await runCli(["collect", "--config", join(d, "typo.toml"), "--data-dir", data, "--duration", "1s"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("typo.toml: metrics.listn: unknown key; did you mean metrics.listen?");
    expect(typo.stderr).not.toContain("127.0.0.1:9464");
    const syntax = await runCli([
      "collect",
      "--config",
      join(d, "syntax.toml"),
      "--data-dir",
      data,
      "--duration",
      "1s",
    ]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain("syntax.toml: not valid TOML at line 2, column 13: Expected a value but found '='");
    expect(existsSync(data)).toBe(false);
  }, 60_000);

  test("collect says first which config it runs on: the file, or the built-in defaults when there is none", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "config-source-"));
    dirs.push(cwd);
    // no universe yet: collect stops at once (exit 1), after the line under test
    const bare = await runCli(["collect", "--duration", "1s"], { cwd });
    expect(bare.stderr.split("\n")[0]).toBe(
      `[collect] ℹ no --config and no config/surveillance.toml in ${cwd}: running on the built-in defaults; data dir ${join(cwd, "data")}`,
    );
    writeFileSync(join(cwd, "mine.toml"), "[venues.mock]\nuniverse_size = 5\n");
    const given = await runCli(["collect", "--config", "mine.toml", "--data-dir", "d", "--duration", "1s"], { cwd });
    expect(given.stderr.split("\n")[0]).toBe(
      `[collect] ℹ config ${join(cwd, "mine.toml")}; data dir ${join(cwd, "d")}`,
    );
  }, 60_000);
});
