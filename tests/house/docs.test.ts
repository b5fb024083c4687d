/** The README stays a front door (≤ 200 lines, links into docs/) and nothing in the repository points outside it. */
import { describe, expect, test } from "bun:test";
import { execSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const REPO = join(import.meta.dir, "..", "..");
const tracked = execSync("git ls-files -co --exclude-standard", { cwd: REPO, encoding: "utf8" })
  .trim()
  .split("\n")
  .filter((f) => /\.(md|ts|toml|sh|json)$/.test(f) && f !== "bun.lock" && existsSync(join(REPO, f)));
const markdown = tracked.filter((f) => f.endsWith(".md"));

describe("docs", () => {
  test("README is at most 200 lines", () => {
    expect(readFileSync(join(REPO, "README.md"), "utf8").trimEnd().split("\n").length).toBeLessThanOrEqual(200);
  });

  test("every relative link in the markdown names a file of the repository", () => {
    const broken: string[] = [];
    for (const f of markdown) {
      for (const m of readFileSync(join(REPO, f), "utf8").matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1])) continue;
        if (!existsSync(normalize(join(REPO, dirname(f), m[1])))) broken.push(`${f} -> ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test("nothing refers to files outside the repository", () => {
    // Spelled in pieces so this file does not match itself.
    const outside = [
      ["venue", "protocols.md"].join("-"),
      ["..", "shared"].join("/"),
      ["SP" + "EC", "md"].join("."),
      ["STY" + "LE", "md"].join("."),
    ];
    const hits: string[] = [];
    for (const f of tracked) {
      const text = readFileSync(join(REPO, f), "utf8");
      for (const o of outside) if (text.includes(o)) hits.push(`${f}: ${o}`);
      if (new RegExp(`\\b${"SP"}EC\\b`).test(text)) hits.push(`${f}: the spec`);
    }
    expect(hits).toEqual([]);
  });
});
