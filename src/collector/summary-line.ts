/** The per-venue line `collect` prints on stdout at the end of a run (and the figures in it). */
import type { CollectSummary } from "./run.ts";

const secs = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`);

export function summaryLine(s: CollectSummary): string {
  const head = `${s.venue}: ${s.snapshots} snapshots, ${s.updates} book updates, ${s.subscribes} subscribes / ${s.unsubscribes} unsubscribes, ${s.reconnects} reconnects, ${s.rejected} rejected messages`;
  const tail = `, ${s.filesFinalized} files finalized, stale ${(s.staleShare * 100).toFixed(1)}%, downtime ${secs(s.downtimeMs)}, ${s.connectAttempts} connection attempts (${s.connectFailures} failed)`;
  return s.collecting ? head + tail : `${head + tail}; not collecting: ${s.reason}`;
}
