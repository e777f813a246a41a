#!/usr/bin/env bash
# Whole-process benchmarks of the release binary (hyperfine; Debian: apt-get install hyperfine).
# Results and how to read them: docs/performance.md.
#
#   bash benches/run.sh            # examples, 1k and 10k flows (a few minutes)
#   BIG=1 bash benches/run.sh      # also 100k flows (one run each; needs several GB of memory)
#
# Workspaces come from the deterministic generator (examples/generate.rs, seed 1): N systems give
# 2N flows. Exit 1 (gaps found) is the normal outcome of `check` and `report`, hence -i.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin flowaudit --example generate
bin=$PWD/target/release/flowaudit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sizes="500 5000"
[ -n "${BIG:-}" ] && sizes="$sizes 50000"
for n in $sizes; do
  target/release/examples/generate --systems "$n" --out "$tmp/ws-$((2 * n))-flows" 2>/dev/null
done
export SOURCE_DATE_EPOCH=1767225600
out=${BENCH_OUT:-$tmp}

echo "## start-up: the bundled examples"
hyperfine -N -i --warmup 5 --min-runs 30 --export-markdown "$out/examples.md" \
  "$bin validate examples/robot-vacuum" \
  "$bin check examples/robot-vacuum" \
  "$bin check examples/face-search" \
  "$bin check examples/robot-vacuum-remediated" \
  "$bin report examples/robot-vacuum --out $tmp/report-rv"

for n in $sizes; do
  ws=$tmp/ws-$((2 * n))-flows
  runs="--warmup 1 --min-runs 5"
  [ "$n" -ge 50000 ] && runs="--runs 1"
  echo "## $((2 * n)) flows ($n systems)"
  # shellcheck disable=SC2086
  hyperfine -N -i $runs --export-markdown "$out/flows-$((2 * n)).md" \
    "$bin validate $ws" \
    "$bin check $ws" \
    "$bin check $ws --format json --output $tmp/out.json" \
    "$bin report $ws --out $tmp/report-$n"
  for cmd in "validate $ws" "check $ws" "report $ws --out $tmp/report-$n"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "peak RSS %M KB, %U s user: flowaudit ${cmd%% *} ($((2 * n)) flows)" \
      "$bin" $cmd >/dev/null 2>"$tmp/time" || true
    tail -n 1 "$tmp/time"
  done
done
