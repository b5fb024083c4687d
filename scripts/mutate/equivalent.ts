/**
 * Surviving mutants judged equivalent (no behaviour can tell them apart) or accepted (a change no test should pin),
 * each with its reason; `bun run mutate` counts them apart from real survivors. Keyed by file and the line before and
 * after the change (trimmed), so an entry goes stale, and the mutant counts again, when the line is edited. A line
 * written at several places is told apart by `above`, the line just above it (trimmed).
 */
export interface EquivalentMutant {
  file: string;
  before: string;
  after: string;
  /** Only where the line above is this one (trimmed); without it the entry holds wherever the line occurs. */
  above?: string;
  reason: string;
}

export const EQUIVALENT: EquivalentMutant[] = [
  {
    file: "src/venue/backoff.ts",
    before: "if (!max || max <= 0) return delay;",
    after: "if (!max || max < 0) return delay;",
    reason: "max = 0 is already caught by !max; the two differ for no value",
  },
  {
    file: "src/venue/_socket.ts",
    before: "if (ws && ws.readyState <= 1) ws.close(4000, reason.slice(0, 100));",
    after: "if (ws && ws.readyState <= 1) ws.close(4000, reason.slice(0, 101));",
    reason: "accepted: a guard under the 123-byte close-reason limit; 100 or 101 both stay under it",
  },
  {
    file: "src/venue/_socket.ts",
    before: "this.firstResult = null;",
    after: "void 0;",
    reason: "a promise's resolve is idempotent: calling the first result's resolver again changes nothing",
  },
  {
    file: "src/venue/_socket.ts",
    before: 'ws.binaryType = "arraybuffer";',
    after: "void 0;",
    reason:
      "accepted: Bun's default binaryType is nodebuffer, a Uint8Array TextDecoder decodes the same; it matters on runtimes defaulting to blob",
  },
  {
    file: "src/venue/_socket.ts",
    before: "if (gen !== this.gen || !this.open) return;",
    after: "if (gen !== this.gen && !this.open) return;",
    reason:
      "the keepalive timer is cancelled on every path that moves gen or clears open (lost, close), so no stale tick runs (the watchdog's same line is the same)",
  },
  {
    file: "src/venue/_socket.ts",
    before: "if (gen !== this.gen) return;",
    after: "if (false) return;",
    above: "private lost(gen: number, reason: string): void {",
    reason:
      "in lost(): every caller passes the current generation (the close and watchdog handlers check it first, reconnect passes this.gen)",
  },
  {
    file: "src/venue/_socket.ts",
    before: "if (gen !== this.gen || opened) return;",
    after: "if (gen !== this.gen && opened) return;",
    reason:
      "a second line of defence: the handshake timer is cancelled on open (cancelConnectTimer, which socket-events checks) and on every path that moves gen (failed, lost, close), so it never fires with either condition true",
  },
  {
    file: "src/scheduler/scheduler.ts",
    before: "if (warmSize >= rest.length) warm = rest.map((r) => r.m);",
    after: "if (false) warm = rest.map((r) => r.m);",
    reason:
      "accepted, as the `>` mutant of this line: warmSize is at most rest.length, so the branch is only the everything-fits case, where the walk takes the same set from the cursor; only WARM's order and the cursor differ, which no claim pins",
  },
  {
    file: "src/scheduler/scheduler.ts",
    before: "for (let k = 0; k < rest.length && warm.length < warmSize; k++) {",
    after: "for (let k = 0; k <= rest.length && warm.length < warmSize; k++) {",
    reason:
      "the extra step k = rest.length revisits rest[start], already seen at k = 0 (taken then, or kept from before), so it only continues",
  },
  {
    file: "src/scheduler/scheduler.ts",
    before: "if (start < 0) start = 0;",
    after: "if (start <= 0) start = 0;",
    reason: "start is -1 or an index; at 0 it sets 0 to 0",
  },
  {
    file: "src/scheduler/scheduler.ts",
    before: "if (start < 0) start = 0;",
    after: "if (start < 1) start = 0;",
    reason: "start is -1 or an index; at 0 it sets 0 to 0",
  },
  {
    file: "src/scheduler/scheduler.ts",
    before: "private pinsChanged = false;",
    after: "private pinsChanged = true;",
    reason: "the first targets() call reports the selection anyway (no universe seen yet) and clears the flag",
  },
  {
    file: "src/scheduler/scheduler.ts",
    before: "if (warmSize >= rest.length) warm = rest.map((r) => r.m);",
    after: "if (warmSize > rest.length) warm = rest.map((r) => r.m);",
    reason:
      "accepted: when WARM holds exactly every other market, the walk takes the same set from the cursor instead of in circle order; only WARM's order and the cursor differ, which no claim pins",
  },
  {
    file: "src/collector/snapshotter.ts",
    before: "this.timer = null;",
    after: "void 0;",
    reason:
      "in stop(), arm() and the timer callback alike: the field is only ever cancelled again, and cancelling a fired or cancelled timer does nothing (timerAt decides re-arming)",
  },
  {
    file: "src/collector/snapshotter.ts",
    before: "if (!this.running) return;",
    after: "if (false) return;",
    above: "this.timerAt = Infinity;",
    reason: "in the timer callback: stop() cancels the timer, so the callback never runs stopped",
  },
  {
    file: "src/collector/snapshotter.ts",
    before: "return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id < b.id);",
    after: "return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id <= b.id);",
    reason: "ids are unique and the heap never compares a slot with itself, so < and <= agree",
  },
  {
    file: "src/venue/kalshi/feed.ts",
    before: "this.commands.delete(id);",
    after: "void 0;",
    above: "const c = this.commands.get(id);",
    reason:
      "accepted: in lateAdded, the entry of a command already answered; the map is bounded (1000, oldest dropped) and a command id is answered once, so only a long run of late oks could push out a pending command's entry",
  },
  {
    file: "src/venue/kalshi/feed.ts",
    before: "this.commands.delete(id);",
    after: "void 0;",
    above: "this.refusals.forgetExpired(id); // its requeued copy stands",
    reason: "accepted: in lateSubscribed, the entry of a command already answered (as the lateAdded one above it)",
  },
  {
    file: "src/venue/kalshi/feed.ts",
    before: "if (id !== undefined) this.commands.delete(id);",
    after: "if (id === undefined) this.commands.delete(id);",
    reason:
      "accepted: the entry of a command answered with an error stays; the map is bounded (1000, oldest dropped) and each id is answered once, so only a long run of error replies could push out a pending command's entry",
  },
  {
    file: "src/venue/kalshi/feed.ts",
    before: "this.wake = null;",
    after: "void 0;",
    reason:
      "the field is only ever cancelled again, and cancelling a fired or cancelled timer does nothing (wakeAt decides re-arming)",
  },
  {
    file: "src/venue/kalshi/refusals.ts",
    before: "if (p.of && --p.of.open === 0) p.of.settled = true; // emptied: nothing to conclude",
    after: "if (p.of && ++p.of.open === 0) p.of.settled = true; // emptied: nothing to conclude",
    reason:
      "an emptied probe comes only from drop(), which has settled its refused set already; a settled set's open count decides nothing",
  },
  {
    file: "src/venue/kalshi/refusals.ts",
    before: "if (p.of && --p.of.open === 0) p.of.settled = true; // emptied: nothing to conclude",
    after: "if (false) p.of.settled = true; // emptied: nothing to conclude",
    reason:
      "a probe is emptied only by drop() (a queued probe) or by requeueInFlight of an in-flight probe whose tickers left, which the feed always reports through drop(); both settle the refused set first, and a settled set's open count decides nothing (open is read only as `=== 0 && !settled`)",
  },
  {
    file: "src/venue/kalshi/refusals.ts",
    before: "const p = this.inFlight!.probe;",
    after: "const p = this.inFlight.probe;",
    reason: "a TypeScript non-null assertion removed: the emitted JavaScript is the same",
  },
  {
    file: "src/venue/kalshi/refusals.ts",
    before: "const need = top ? Math.max(1, Math.min(top.tickers.length, this.limiter.limit)) : 0;",
    after: "const need = top ? Math.max(0, Math.min(top.tickers.length, this.limiter.limit)) : 0;",
    reason:
      "differs only for an emptied probe on top: an earlier wake-up, at which next() drops it (no command, no budget) and the next probe waits as before",
  },
  {
    file: "src/storage/writer.ts",
    before: "st.active = new ColumnBuffer(this.topK, 16);",
    after: "void 0;",
    reason:
      "accepted: the old buffer left as active is already in pending; once staged it is reset on release, so a retried finalize re-pushes it empty (writer-edges checks the retry writes the row once)",
  },
  {
    file: "src/storage/writer.ts",
    before: "this.settings.retry_base_ms * 2 ** Math.min(this.failures - 1, 30),",
    after: "this.settings.retry_base_ms * 2 ** Math.min(this.failures - 1, 31),",
    reason:
      "accepted: differs only after 31 failures in a row with retry_cap_ms above 2^30 × retry_base_ms (12 days at 1 ms); the cap applies first",
  },
  {
    file: "src/storage/staging.ts",
    before: 'if (part.length < 8 || partKind(part) !== PART_ROWGROUP) throw new Error("not a row-group part");',
    after: 'if (part.length <= 8 || partKind(part) !== PART_ROWGROUP) throw new Error("not a row-group part");',
    reason: "an 8-byte part is refused either way: the header range check on the next lines throws for it",
  },
  {
    file: "src/storage/compact.ts",
    before: "dictionaryDefault = false,",
    after: "dictionaryDefault = true,",
    reason:
      "accepted: the encoding of the columns outside DICTIONARY_COLUMNS (file size only); every reader reads the same rows",
  },
  {
    file: "src/collector/inputs.ts",
    before: "if (this.stopped) return;",
    after: "if (false) return;",
    reason:
      "stop() cancels the timer in the same synchronous step that sets stopped, so the callback never runs stopped",
  },
  {
    file: "src/collector/inputs.ts",
    before: "this.timer = null;",
    after: "void 0;",
    reason: "the field is only ever cancelled again (a no-op on a cancelled timer) or overwritten",
  },
  {
    file: "src/collector/inputs.ts",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source line, template and all
    before: "return `${this.universe.length} markets (${active} active) from ${this.rel(this.universeFile!.path)}`;",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the mutated source line
    after: "return `${this.universe.length} markets (${active} active) from ${this.rel(this.universeFile.path)}`;",
    reason: "a TypeScript non-null assertion removed: no JavaScript changes",
  },
  {
    file: "src/collector/inputs.ts",
    before: "if (held.date > utcDate(now) && (await stillThere(held.path))) return false;",
    after: "if (held.date >= utcDate(now) && (await stillThere(held.path))) return false;",
    reason:
      "a held file dated today that is still there is what latestDatedFile returns, so a newest file older than it means it is gone: the two differ only in a race with its deletion",
  },
  {
    file: "src/venue/polymarket/feed.ts",
    before: "if (ids.length === 0) return;",
    after: "if (false) return;",
    reason:
      "sendOp is only called with the tokens of markets held, and a market without outcome ids is never held: the list is never empty",
  },
  {
    file: "src/collector/snapshotter.ts",
    before: "this.timerAt = at;",
    after: "void 0;",
    reason:
      "timerAt only saves re-arming: without it each arm() replaces the timer by one for the same due time (or, when nothing is due, leaves one that finds nothing due)",
  },
  {
    file: "src/collector/snapshotter.ts",
    before: "if (top.dueAt - now <= Math.max(this.o.hotIntervalMs, this.o.warmIntervalMs)) return;",
    after: "if (top.dueAt - now <= Math.min(this.o.hotIntervalMs, this.o.warmIntervalMs)) return;",
    reason:
      "accepted: differs only for a step back shorter than the longest interval, which the mutant re-bases too (a HOT market sooner); either way no market waits longer than the step plus the longest interval",
  },
  {
    file: "src/storage/staging.ts",
    before: "for (let i = 0; i < MAGIC.length; i++)",
    after: "for (let i = 0; i <= MAGIC.length; i++)",
    reason: "the extra step compares tail[12] with MAGIC[8], both undefined: equal, so nothing changes",
  },
  {
    file: "src/collector/book.ts",
    before: "quietSince = -1;",
    after: "quietSince = -0;",
    reason:
      "the cache key's start: quietReason starts null, so the first quiet text is built whatever quietSince holds, and built texts set it",
  },
  {
    file: "src/collector/snapshotter.ts",
    before: "b.quietSince = b.lastUpdateTs;",
    after: "void 0;",
    reason:
      "accepted: the cache key never set, so the quiet text is rebuilt for every stale row (the same text, one string more per row); what is written is unchanged",
  },
  {
    file: "src/storage/writer.ts",
    before: "if (this.spare.length < 1) this.spare.push(buf);",
    after: "if (this.spare.length <= 1) this.spare.push(buf);",
    reason: "accepted: two spare buffers kept instead of one (memory and allocations only); rows and files the same",
  },
  {
    file: "src/storage/staging.ts",
    before: 'if (start > part.length) throw new Error("row-group part header out of range");',
    after: 'if (start >= part.length) throw new Error("row-group part header out of range");',
    reason:
      "a part that ends right after its header is refused either way: the header's len is ≥ 1 (checked next), so the truncation check throws; only the message differs",
  },
  {
    file: "src/collector/inputs.ts",
    before: "this.stopped = true;",
    after: "this.stopped = false;",
    reason:
      "stop() cancels the timer the flag is read in (the callback's own `stopped` check is recorded as unreachable for the same reason): nothing reads it after stop()",
  },
  {
    file: "src/storage/writer.ts",
    before: "this.release(buf);",
    after: "void 0;",
    reason:
      "accepted: release() only keeps a staged buffer as the spare for the next one (fewer allocations); without it every buffer is new, the rows and files are the same",
  },
  {
    file: "src/storage/writer.ts",
    before: "if (this.last === st) this.last = null;",
    after: "if (false) this.last = null;",
    above: "if (st.accepting) this.byVenue.get(st.venue)?.delete(st.start);",
    reason:
      "forget()'s copy: finalize() already cleared `last` when the state stopped accepting, and a state that does not accept is never made `last` again (stateFor only finds accepting ones), so `last === st` cannot hold here",
  },
  {
    file: "src/storage/writer.ts",
    before: "const res: CompactResult = { rows: 0, bytes: 0, minTs: Infinity, maxTs: -Infinity, markets: new Set() };",
    after: "const res: CompactResult = { rows: 0, bytes: 1, minTs: Infinity, maxTs: -Infinity, markets: new Set() };",
    reason:
      "statsFromSegments' bytes start: its only caller overwrites res.bytes with the final file's size before using it",
  },
  {
    file: "src/collector/book.ts",
    before: "for (let j = this.len; j > i; j--) {",
    after: "for (let j = this.len; j >= i; j--) {",
    reason: "the extra step writes slot i, which the next two lines overwrite",
  },
  {
    file: "src/collector/book.ts",
    before: "for (let j = i; j < n; j++) {",
    after: "for (let j = i; j <= n; j++) {",
    reason: "the extra step writes slot n, past the new length (never read)",
  },
  {
    file: "src/ops/coverage.ts",
    before: "if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);",
    after: "if (last && s.from < last.to) last.to = Math.max(last.to, s.to);",
    reason: "two half-open down spans that touch count the same snapshots merged or apart",
  },
  {
    file: "src/ops/coverage.ts",
    before: "if (books.has(k) || waits.has(k)) break;",
    after: "if (false) break;",
    reason:
      "accepted: the collector journals `target` only for a market not subscribed, and a waiting market's day carry repeats its `since`; the guard is for journals it never writes",
  },
  {
    file: "src/ops/coverage.ts",
    before:
      '.sort((a, b) => a.r.ts - b.r.ts || (a.r.action === "stall" ? 0 : 1) - (b.r.action === "stall" ? 0 : 1) || a.i - b.i)',
    after:
      '.sort((a, b) => a.r.ts - b.r.ts || (a.r.action === "stall" ? 0 : 1) - (b.r.action === "stall" ? 0 : 1) || a.i + b.i)',
    reason:
      "Array.prototype.sort is stable (ES2019), so records tied on ts and stall rank keep their journal order without the index tie-break; the mutant's a.i + b.i (> 0 for every tie) only makes the comparator inconsistent, and Bun's (JSC's) merge sort then keeps the input order as well: no difference on 20,000 random record lists of up to 200 records",
  },
  {
    file: "src/ops/coverage.ts",
    before: "const tailEnd = win.inFlight.at(-1)?.to;",
    after: "const tailEnd = win.inFlight.at(-0)?.to;",
    reason: "windows() pushes at most one in-flight window (the newest run's, after its loop), so at(0) is at(-1)",
  },
];
