/** The one registry: venue kind → adapter factory, loaded lazily so a command pays only for the venues it uses. */
import type { VenueConfig, VenueKind } from "../config.ts";
import type { AdapterContext, AdapterFactory, VenueAdapter } from "./types.ts";

export const ADAPTERS: Record<VenueKind, () => Promise<AdapterFactory>> = {
  mock: async () => (await import("./mock.ts")).createMockAdapter,
  polymarket: () => import("./polymarket/adapter.ts").then((m) => m.createPolymarketAdapter),
  kalshi: () => import("./kalshi/adapter.ts").then((m) => m.createKalshiAdapter),
};

export async function createAdapter(cfg: VenueConfig, ctx: AdapterContext): Promise<VenueAdapter> {
  const factory = await ADAPTERS[cfg.kind]();
  return factory(cfg, ctx);
}
