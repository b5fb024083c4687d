/**
 * Kalshi request signing: RSA-PSS / SHA-256 (salt length 32) over `timestampMs + METHOD + path`, where path starts at
 * `/trade-api/` and has no query string. Credentials come from the environment variables the config names; their
 * values are never logged or put into error messages.
 */
import { constants, createPrivateKey, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { KalshiOptions } from "./config.ts";
import { readSecret } from "../../config.ts";
import { UserError } from "../../errors.ts";
import { registerSecret } from "../../log.ts";

export interface KalshiCredentials {
  keyId: string;
  privateKey: KeyObject;
}

/** The path Kalshi signs: from `/trade-api/` on (the whole path when a proxy strips that prefix), never the query. */
export function signingPath(urlOrPath: string): string {
  const path = urlOrPath.includes("://") ? new URL(urlOrPath).pathname : urlOrPath.split("?")[0];
  const i = path.indexOf("/trade-api/");
  return i >= 0 ? path.slice(i) : path;
}

/** Pure: base64 RSA-PSS SHA-256 signature of `timestampMs + METHOD + path`. */
export function signRequest(privateKey: KeyObject, timestampMs: number, method: string, path: string): string {
  const message = `${timestampMs}${method.toUpperCase()}${signingPath(path)}`;
  return sign("sha256", Buffer.from(message), {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  }).toString("base64");
}

export function authHeaders(
  creds: KalshiCredentials,
  timestampMs: number,
  method: string,
  urlOrPath: string,
): Record<string, string> {
  return {
    "KALSHI-ACCESS-KEY": creds.keyId,
    "KALSHI-ACCESS-TIMESTAMP": String(timestampMs),
    "KALSHI-ACCESS-SIGNATURE": signRequest(creds.privateKey, timestampMs, method, urlOrPath),
  };
}

const advice = (o: KalshiOptions) =>
  `Set ${o.key_id_env} to your Kalshi API key id and ${o.private_key_env} to the path of its PEM private key (or the PEM text); ` +
  `the variable names are key_id_env / private_key_env under [venues.kalshi]. Market discovery (scan) works without them.`;

/**
 * Reads the key id and the PEM (a path, or the PEM text itself) from the environment variables named in the config.
 * Missing or unusable → UserError naming the variables (never their values).
 */
export function loadCredentials(o: KalshiOptions, env: Record<string, string | undefined>): KalshiCredentials {
  const keyId = readSecret(o.key_id_env, env);
  const pemRef = readSecret(o.private_key_env, env);
  const missing = [!keyId && o.key_id_env, !pemRef && o.private_key_env].filter(Boolean);
  if (missing.length > 0) {
    throw new UserError(
      `kalshi: no credentials: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set; the Kalshi WebSocket needs a signed login`,
      2,
      advice(o),
    );
  }
  let pem: string;
  if (pemRef!.includes("-----BEGIN")) pem = pemRef!;
  else {
    try {
      pem = readFileSync(pemRef!, "utf8");
      registerSecret(pem); // the file's text is as secret as an env value
    } catch (e) {
      throw new UserError(
        `kalshi: cannot read the private key file named by ${o.private_key_env} (${(e as NodeJS.ErrnoException).code ?? "read error"})`,
        2,
        advice(o),
      );
    }
  }
  try {
    return { keyId: keyId!, privateKey: createPrivateKey(pem) };
  } catch {
    throw new UserError(
      `kalshi: the private key from ${o.private_key_env} is not a valid PEM private key`,
      2,
      advice(o),
    );
  }
}
