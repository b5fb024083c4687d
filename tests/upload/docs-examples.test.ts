/** The examples of docs/object-storage.md stand: every TOML block is a config the parser accepts, the policies parse. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";

const doc = readFileSync(join(import.meta.dir, "..", "..", "docs", "object-storage.md"), "utf8");
const blocks = (lang: string) =>
  [...doc.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);

describe("docs/object-storage.md examples", () => {
  test("every TOML block is accepted by the config parser", () => {
    const tomls = blocks("toml");
    expect(tomls.length).toBeGreaterThanOrEqual(4);
    for (const t of tomls) {
      const parsed = Bun.TOML.parse(t) as Record<string, unknown>;
      const config = parseConfig({ data_dir: "/tmp/x", ...parsed });
      if (parsed.upload) expect(config.upload.url).toMatch(/^s3:\/\//);
    }
  });

  test("the IAM policy grants exactly PutObject, GetObject and ListBucket on the prefix", () => {
    const policy = JSON.parse(blocks("json").find((b) => b.includes('"Statement"'))!) as {
      Statement: { Action: string | string[]; Resource: string; Condition?: unknown }[];
    };
    const actions = policy.Statement.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(["s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    const objects = policy.Statement.find((s) => [s.Action].flat().includes("s3:PutObject"))!;
    expect(objects.Resource).toBe("arn:aws:s3:::my-recordings/box-1/*");
    const list = policy.Statement.find((s) => s.Action === "s3:ListBucket")!;
    expect(list.Condition).toEqual({ StringLike: { "s3:prefix": ["box-1/*"] } });
  });
});
