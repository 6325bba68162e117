#!/usr/bin/env bash
# Benchmark of `res learn`: one streaming pass over a large Combined log (issue 6).
#
# Goal: at least 1 million lines/s on a 2-core machine, and peak memory that does not grow
# with the log's length. Generates deterministic logs of 1 M and 10 M lines under
# $BENCH_DIR (default /tmp/res-bench-learn; about 2 GB, kept between runs), builds res in
# release, and reports wall time, lines/s and peak RSS (GNU time) for each. The first run
# of a size reads the file from disk; the figures printed are of a second, warm-cache run,
# so they measure the parser and not the disk.
#
# usage: benches/bench-learn.sh [LINES...]      (default: 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/res-bench-learn}
mkdir -p "$dir"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000 10000000)
cargo build --release --quiet
res=target/release/res
timer=$(command -v /usr/bin/time || true)
printf '%-12s %10s %14s %12s\n' lines seconds lines/s peak_rss_MiB
for n in "${sizes[@]}"; do
  log="$dir/access-$n.log"
  if [ ! -s "$log" ]; then
    echo "generating $log ..." >&2
    python3 benches/gen-access-log.py "$n" 28 > "$log.tmp" && mv "$log.tmp" "$log"
  fi
  "$res" learn "$log" --format combined > /dev/null # warm the page cache
  if [ -n "$timer" ]; then
    "$timer" -f '%e %M' -o "$dir/time.txt" "$res" learn "$log" --format combined -o "$dir/model-$n.json" > /dev/null
    read -r secs rss_kb < "$dir/time.txt"
  else
    start=$(date +%s.%N)
    "$res" learn "$log" --format combined -o "$dir/model-$n.json" > /dev/null
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    rss_kb=0
  fi
  awk -v n="$n" -v s="$secs" -v r="$rss_kb" \
    'BEGIN { printf "%-12d %10.2f %14.0f %12.1f\n", n, s, n / s, r / 1024 }'
done
