/** Ids shortened in the middle for tables people read (`0x1a2b3c…9f0e`), never two ids of one table alike; pure. */

/** Market ids up to this many characters are shown whole (tickers, mock ids); longer ones lose their middle. */
export const MARKET_ID_WIDTH = 22;

/** `id` cut to `width` characters by dropping its middle (`0x1a2b3c…9f0e`); unchanged when it fits. */
export function shortId(id: string, width: number): string {
  if (id.length <= width) return id;
  const tail = Math.max(1, Math.floor((width - 1) / 2));
  const head = Math.max(1, width - 1 - tail);
  return `${id.slice(0, head)}…${id.slice(id.length - tail)}`;
}

/**
 * Each id's short form at the narrowest width from `width` up at which no two different ids of `ids` read the
 * same (two condition ids sharing both ends are shown wider, never alike).
 */
export function shortIds(ids: Iterable<string>, width: number): Map<string, string> {
  const distinct = [...new Set(ids)];
  const longest = Math.max(0, ...distinct.map((s) => s.length));
  for (let w = width; ; w += 4) {
    const short = new Map(distinct.map((id) => [id, shortId(id, w)]));
    if (w >= longest || new Set(short.values()).size === distinct.length) return short;
  }
}
