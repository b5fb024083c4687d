/** Kalshi request signing: the test vector, what is signed (ms + METHOD + path) and what is not. */
import { describe, expect, test } from "bun:test";
import { constants, createPublicKey, verify } from "node:crypto";
import { join } from "node:path";
import { KALSHI_DEFAULTS } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";
import { authHeaders, loadCredentials, signingPath, signRequest } from "../../src/venue/kalshi/auth.ts";

const dir = join(import.meta.dir, "..", "fixtures", "kalshi");
const keyPath = join(dir, "test-private-key.pem");
const publicKey = createPublicKey(require("node:fs").readFileSync(join(dir, "test-public-key.pem"), "utf8"));
const env = { KALSHI_API_KEY_ID: "test-key-id", KALSHI_PRIVATE_KEY_PATH: keyPath };

/** What the server does: verify the signature over the message it rebuilds itself. */
const verifies = (message: string, sigB64: string) =>
  verify(
    "sha256",
    Buffer.from(message),
    { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    Buffer.from(sigB64, "base64"),
  );

describe("kalshi auth", () => {
  const creds = loadCredentials(KALSHI_DEFAULTS, env);
  const ts = 1764115200123;

  test("test vector: the signature verifies with the public key over ms + METHOD + path", () => {
    const sig = signRequest(creds.privateKey, ts, "GET", "/trade-api/ws/v2");
    expect(verifies("1764115200123GET/trade-api/ws/v2", sig)).toBe(true);
    // what the server rejects: seconds instead of ms, the query included, another path or method
    expect(verifies("1764115200GET/trade-api/ws/v2", sig)).toBe(false);
    expect(verifies("1764115200123GET/trade-api/ws/v2?x=1", sig)).toBe(false);
    expect(verifies("1764115200123POST/trade-api/ws/v2", sig)).toBe(false);
    expect(verifies("1764115200123GET/trade-api/v2/markets", sig)).toBe(false);
  });

  test("the query string and host are not signed; path starts at /trade-api/", () => {
    expect(signingPath("https://api.elections.kalshi.com/trade-api/v2/portfolio/orders?limit=5")).toBe(
      "/trade-api/v2/portfolio/orders",
    );
    expect(signingPath("ws://127.0.0.1:4000/proxy/trade-api/ws/v2")).toBe("/trade-api/ws/v2");
    const sig = signRequest(creds.privateKey, ts, "get", "/trade-api/v2/portfolio/orders?limit=5");
    expect(verifies(`${ts}GET/trade-api/v2/portfolio/orders`, sig)).toBe(true);
  });

  test("headers carry the key id, the ms timestamp and the signature", () => {
    const h = authHeaders(creds, ts, "GET", "wss://api.elections.kalshi.com/trade-api/ws/v2");
    expect(h["KALSHI-ACCESS-KEY"]).toBe("test-key-id");
    expect(h["KALSHI-ACCESS-TIMESTAMP"]).toBe("1764115200123");
    expect(verifies(`${ts}GET/trade-api/ws/v2`, h["KALSHI-ACCESS-SIGNATURE"])).toBe(true);
  });

  test("PEM text in the variable works as well as a path", () => {
    const pem = require("node:fs").readFileSync(keyPath, "utf8");
    const c = loadCredentials(KALSHI_DEFAULTS, { KALSHI_API_KEY_ID: "k", KALSHI_PRIVATE_KEY_PATH: pem });
    expect(verifies(`${ts}GET/trade-api/ws/v2`, signRequest(c.privateKey, ts, "GET", "/trade-api/ws/v2"))).toBe(true);
  });

  test("missing or bad credentials: a UserError naming the variables, never their values", () => {
    const err = (e: Record<string, string>) => {
      try {
        loadCredentials({ ...KALSHI_DEFAULTS, key_id_env: "MY_KID", private_key_env: "MY_PEM" }, e);
      } catch (x) {
        return x as UserError;
      }
      throw new Error("expected a UserError");
    };
    const none = err({});
    expect(none).toBeInstanceOf(UserError);
    expect(none.message).toContain("MY_KID and MY_PEM are not set");
    expect(err({ MY_KID: "secret-id" }).message).toContain("MY_PEM is not set");
    const missingFile = err({ MY_KID: "secret-id", MY_PEM: "/nonexistent/secret-path.pem" });
    expect(missingFile.message).toContain("cannot read the private key file named by MY_PEM (ENOENT)");
    expect(missingFile.message).not.toContain("secret-path");
    const badPem = err({
      MY_KID: "secret-id",
      MY_PEM: "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----",
    });
    expect(badPem.message).toContain("not a valid PEM");
    for (const e of [none, missingFile, badPem]) expect(`${e.message} ${e.advice}`).not.toContain("secret");
  });
});
