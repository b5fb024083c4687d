#!/usr/bin/env bash
# CI smoke test of the compiled executable ($1): runs `demo` from a temp dir (so nothing resolves from the repo's
# node_modules: the Polars addon and parquet-wasm must come from inside the binary), then checks it produced the
# dataset, the journal and the stats cache, and that `mine --json` reads them back.
set -euo pipefail
exe="${1:?usage: ci-smoke.sh PATH_TO_EXECUTABLE}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
echo "== smoke: $exe demo (in $tmp)"
"$exe" demo --data-dir "$tmp/data" --duration 15m --top 3 > demo.out 2> demo.err || { echo "demo failed:"; cat demo.err; exit 1; }
grep -q "4. schedule again" demo.out || { echo "demo output incomplete:"; cat demo.out; exit 1; }
# The "Next:" lines run as printed: they start with the executable's own path (surveillance is on no PATH).
next=$(grep -A4 '^Next:' demo.out | grep 'what is on disk:' | sed 's/^[^:]*: *//')
case "$next" in "$exe "*|"${exe#./} "*) ;; *) echo "demo's Next: line does not start with $exe: $next"; exit 1 ;; esac
sh -c "$next" > /dev/null || { echo "demo's Next: line failed: $next"; exit 1; }
n=$(find "$tmp/data/orderbook_snapshots" -name '*.parquet' | wc -l)
[ "$n" -ge 3 ] || { echo "expected snapshot files, found $n"; exit 1; }
ls "$tmp"/data/stats/venue=mock/date=*/stats.parquet >/dev/null
ls "$tmp"/data/subscriptions/venue=mock/date=*/events.jsonl >/dev/null
ls "$tmp"/data/metadata/venue=mock/date=*/universe.jsonl >/dev/null
# The report's chart library is embedded in the executable, not read from node_modules.
grep -q "uPlot" "$tmp/data/report.html" || { echo "demo wrote no report with its chart library"; exit 1; }
day=$(ls "$tmp/data/orderbook_snapshots/venue=mock" | head -1 | sed 's/date=//')
"$exe" mine --data-dir "$tmp/data" --from "$day" --json > mine.json
rows=$(grep -Eo '"rows": [0-9]+' mine.json | head -1 | grep -Eo '[0-9]+')
[ "${rows:-0}" -gt 0 ] || { echo "mine --json read no rows"; cat mine.json | head -20; exit 1; }
echo "== smoke ok: $n snapshot files, $rows rows mined"
