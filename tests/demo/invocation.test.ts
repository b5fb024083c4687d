/** The command the demo's "Next:" lines start with: how this program was started, runnable as printed. */
import { describe, expect, test } from "bun:test";
import { cliCommand, shellWord } from "../../src/invocation.ts";

describe("cliCommand", () => {
  const checkout = "/home/me/surveillance";
  test("from the checkout: the package's start script; from elsewhere: bun and the script's path", () => {
    const main = `${checkout}/bin/surveillance.ts`;
    const bun = "/usr/local/bin/bun";
    expect(cliCommand({ main, execPath: bun, cwd: checkout })).toBe("bun run start --");
    expect(cliCommand({ main, execPath: bun, cwd: "/tmp" })).toBe(`bun ${main}`);
    expect(cliCommand({ main: "/my dir/bin/surveillance.ts", execPath: bun, cwd: "/tmp" })).toBe(
      "bun '/my dir/bin/surveillance.ts'",
    );
  });

  test("the compiled executable: its own path, ./relative under the working dir, its name when on PATH", () => {
    const main = "/$bunfs/root/surveillance";
    const exe = `${checkout}/dist/surveillance`;
    expect(cliCommand({ main, execPath: exe, cwd: "/tmp", path: "/usr/bin:/bin" })).toBe(exe);
    expect(cliCommand({ main, execPath: exe, cwd: checkout, path: "/usr/bin" })).toBe("./dist/surveillance");
    expect(cliCommand({ main, execPath: exe, cwd: "/tmp", path: `/usr/bin:${checkout}/dist` })).toBe("surveillance");
    expect(cliCommand({ main: "B:\\~BUN\\root\\surveillance.exe", execPath: exe, cwd: "/tmp" })).toBe(exe);
  });

  test("shellWord quotes only what a shell would split or expand", () => {
    expect(shellWord("/tmp/surveillance-demo-Ab1")).toBe("/tmp/surveillance-demo-Ab1");
    expect(shellWord("/tmp/a b")).toBe("'/tmp/a b'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord("$HOME")).toBe("'$HOME'");
  });
});
