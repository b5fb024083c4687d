/** Redaction guard: Kalshi credentials set to sentinels never reach stdout, stderr or any file under the data dir. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/run-cli.ts";

// spawns the CLI / writes real files: the 5 s default is too short on a loaded machine (bunfig has no timeout key)
setDefaultTimeout(60_000);

const KEY_ID = "SENTINEL-KEYID-7f3a9c2e-do-not-print";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
/** The key id, the whole PEM, and each base64 line of its body: none may appear anywhere. */
const SENTINELS = [KEY_ID, PEM, ...PEM.split("\n").filter((l) => l.length >= 32 && !l.startsWith("-----"))];

function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    out = statSync(p).isDirectory() ? out.concat(filesUnder(p)) : out.concat([p]);
  }
  return out;
}

describe("credentials never leak", () => {
  let dir: string;
  let keyFile: string;
  let server: ReturnType<typeof Bun.serve>;
  /** What the hostile venue saw: logins signed with the sentinel key id, and REST requests. */
  const seen = { signedLogins: 0, rest: 0 };
  beforeAll(() => {
    // A hostile venue on loopback: every request fails fast, and the error body echoes the request headers
    // (the signed Kalshi login among them), so an adapter that logs a response body would leak them.
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        if (!req.headers.get("upgrade")) seen.rest++;
        else if (req.headers.get("kalshi-access-key") === KEY_ID && req.headers.get("kalshi-access-signature"))
          seen.signedLogins++;
        const echo = JSON.stringify(Object.fromEntries(req.headers));
        // the login on /refuse is rejected (fatal); elsewhere the upgrade fails with 503, so the feed keeps reconnecting
        const status = req.headers.get("upgrade") ? (new URL(req.url).pathname.startsWith("/refuse") ? 401 : 503) : 404;
        return new Response(`no: ${echo}`, { status });
      },
    });
    const base = `127.0.0.1:${server.port}`;
    dir = mkdtempSync(join(tmpdir(), "secrets-"));
    keyFile = join(dir, "kalshi.pem");
    writeFileSync(keyFile, PEM);
    const config = (wsPath: string) =>
      [
        `data_dir = "${join(dir, "data")}"`,
        `[writer]`,
        `flush_secs = 1`,
        `[venues.mock]`,
        `enabled = false`,
        `[venues.kalshi]`,
        `enabled = true`,
        `rest_url = "http://${base}/trade-api/v2"`,
        `ws_url = "ws://${base}${wsPath}"`,
        `rest_requests_per_sec = 50`,
        `[venues.polymarket]`,
        `enabled = false`,
        `gamma_url = "http://${base}"`,
        `clob_url = "http://${base}"`,
        `ws_url = "ws://${base}/ws/market"`,
      ].join("\n");
    writeFileSync(join(dir, "c.toml"), config("/trade-api/ws/v2"));
    writeFileSync(join(dir, "refuse.toml"), config("/refuse/trade-api/ws/v2"));
    // collect needs a universe; scan cannot get one from the hostile server, so write one as the scanner would
    const day = new Date().toISOString().slice(0, 10);
    const uni = join(dir, "data", "metadata", "venue=kalshi", `date=${day}`);
    mkdirSync(uni, { recursive: true });
    writeFileSync(
      join(uni, "universe.jsonl"),
      ["KXA-1", "KXB-2"]
        .map((t) =>
          JSON.stringify({
            venue: "kalshi",
            market_id: t,
            outcome_ids: ["yes", "no"],
            title: t,
            close_ts: null,
            status: "active",
            tags: [],
          }),
        )
        .join("\n") + "\n",
    );
  });
  afterAll(() => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  const envs: [string, Record<string, string>][] = [
    ["PEM text in the env", { KALSHI_API_KEY_ID: KEY_ID, KALSHI_PRIVATE_KEY_PATH: PEM }],
    ["PEM path in the env", { KALSHI_API_KEY_ID: KEY_ID, KALSHI_PRIVATE_KEY_PATH: "KEYFILE" }],
  ];
  const commands: string[][] = [
    // real time: the WebSocket login is refused (401, body echoing the signed headers), reconnects back off, 3 s later it stops
    ["collect", "--venue", "kalshi", "--duration", "3s", "--verbose"],
    ["collect", "--venue", "kalshi", "--duration", "3s", "--log-format", "json"],
    ["collect", "--config", "REFUSE", "--venue", "kalshi", "--duration", "3s", "--verbose"],
    ["scan", "--venue", "kalshi", "--verbose"],
    ["scan", "--venue", "kalshi", "--log-format", "json", "--verbose"],
    ["status", "--venue", "kalshi", "--json"],
    ["verify", "--venue", "kalshi", "--verbose"],
  ];
  for (const [envName, env] of envs) {
    for (const [cmd, ...rest] of commands)
      test(`${envName}: ${cmd} ${rest.join(" ")}`, { timeout: 30_000 }, async () => {
        const e = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === "KEYFILE" ? keyFile : v]));
        const args = rest.includes("REFUSE")
          ? rest.map((a) => (a === "REFUSE" ? join(dir, "refuse.toml") : a))
          : ["--config", join(dir, "c.toml"), ...rest];
        const before = { ...seen };
        const r = await runCli([cmd, ...args], { env: e });
        expect(r.stdout + r.stderr).not.toBe("");
        // The run got as far as using the secrets (a command that quit early would pass the leak checks trivially).
        const logins = seen.signedLogins - before.signedLogins;
        if (cmd === "collect" && rest.includes("REFUSE")) {
          expect(logins).toBe(1); // the first login is refused: fatal, exit 1
          expect(r.code).toBe(1);
        } else if (cmd === "collect") {
          expect(logins).toBeGreaterThanOrEqual(2); // signed, failed, signed again after the backoff
          // It never collected (every login refused): an honest end is exit 1, saying why.
          expect(r.code).toBe(1);
          expect(r.stderr).toContain("kalshi never reached collecting");
        } else if (cmd === "scan") {
          expect(seen.rest - before.rest).toBeGreaterThanOrEqual(1);
        }
        for (const s of SENTINELS) {
          expect(r.stdout.includes(s)).toBe(false);
          expect(r.stderr.includes(s)).toBe(false);
        }
        for (const f of filesUnder(join(dir, "data"))) {
          const text = readFileSync(f).toString("latin1");
          for (const s of SENTINELS) expect(text.includes(s)).toBe(false);
        }
      });
  }
});
