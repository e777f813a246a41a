#!/usr/bin/env bash
# Times whole `flowaudit` processes (release build) with hyperfine: the bundled examples, and
# generated workspaces of 100, 1,000 and 5,000 systems (linear growth expected).
#   bash bench/run.sh            # needs hyperfine (Debian: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin flowaudit --example generate
bin=target/release/flowaudit
tmp=$(mktemp -d)
# Deterministic workspaces (examples/generate.rs; default seed 1): N systems, 2N flows.
for n in 100 1000 5000; do target/release/examples/generate --systems "$n" --out "$tmp/ws-$n"; done
export SOURCE_DATE_EPOCH=1767225600
hyperfine -N --warmup 3 --ignore-failure \
  "$bin validate examples/robot-vacuum" \
  "$bin check examples/robot-vacuum" \
  "$bin check examples/face-search" \
  "$bin check $tmp/ws-100" \
  "$bin check $tmp/ws-1000" \
  "$bin check $tmp/ws-5000"
rm -rf "$tmp"
