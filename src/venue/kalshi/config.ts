/** The Kalshi adapter's [venues.<name>] entries (kind = "kalshi"): checks, type and defaults; src/config.ts composes them. */
import { envName, posInt, url } from "../../config-values.ts";

export const kalshiEntries = {
  rest_url: url(),
  ws_url: url(),
  key_id_env: envName(),
  private_key_env: envName(),
  heartbeat_timeout_secs: posInt(),
  rest_requests_per_sec: posInt(),
};
export type KalshiOptions = {
  rest_url: string;
  ws_url: string;
  key_id_env: string;
  private_key_env: string;
  heartbeat_timeout_secs: number;
  rest_requests_per_sec: number;
};
export const KALSHI_DEFAULTS: KalshiOptions = {
  rest_url: "https://api.elections.kalshi.com/trade-api/v2",
  ws_url: "wss://api.elections.kalshi.com/trade-api/ws/v2",
  key_id_env: "KALSHI_API_KEY_ID",
  private_key_env: "KALSHI_PRIVATE_KEY_PATH",
  heartbeat_timeout_secs: 30,
  rest_requests_per_sec: 10,
};
