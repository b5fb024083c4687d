/** The Polymarket adapter's [venues.<name>] entries (kind = "polymarket"): checks, type and defaults; src/config.ts composes them. */
import { nonNegInt, posInt, url } from "../../config-values.ts";

export const polymarketEntries = {
  gamma_url: url(),
  clob_url: url(),
  ws_url: url(),
  max_assets_per_connection: posInt(500),
  connection_open_pause_ms: nonNegInt(),
  ping_interval_secs: posInt(),
  pong_timeout_secs: posInt(),
  rest_requests_per_10s: posInt(),
};
export type PolymarketOptions = {
  gamma_url: string;
  clob_url: string;
  ws_url: string;
  max_assets_per_connection: number;
  connection_open_pause_ms: number;
  ping_interval_secs: number;
  pong_timeout_secs: number;
  rest_requests_per_10s: number;
};
export const POLYMARKET_DEFAULTS: PolymarketOptions = {
  gamma_url: "https://gamma-api.polymarket.com",
  clob_url: "https://clob.polymarket.com",
  ws_url: "wss://ws-subscriptions-clob.polymarket.com/ws/market",
  max_assets_per_connection: 400,
  connection_open_pause_ms: 1000,
  ping_interval_secs: 10,
  pong_timeout_secs: 30,
  rest_requests_per_10s: 100,
};
