#!/usr/bin/env bash
# The orchestrator's idle cost: CPU per loop iteration and peak memory over 10,000 (and
# 40,000) virtual iterations, with nothing to do in most of them. Needs a quiet machine for
# the CPU figure; the memory figure is what matters for "flat".
#
#   benches/bench-orchestrate.sh [path/to/res]   (default: target/release/res)
set -euo pipefail
RES=${1:-target/release/res}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/idle.res" <<'RES'
system shop { builtin demo_shop  service catalog { route GET "/items/1" } }
traffic t { rate 5/s  hold 30m }
window nightly { every day 02:00..04:00 UTC }
scenario s { in nightly  step main = load t }
RES
for minutes in 10000 40000; do
  rm -f "$dir/p.redb" "$dir/p.redb.orchestrator.lock"
  end=$(date -u -d "2026-12-07T00:00Z + $minutes minutes" +%Y-%m-%dT%H:%MZ)
  /usr/bin/time -f "%U %S %M" -o "$dir/time" \
    "$RES" orchestrate "$dir/idle.res" --clock "2026-12-07T00:00Z..$end" --interval 1m \
    --speed 1e12 --profile-db "$dir/p.redb" > "$dir/out"
  read -r user sys rss < "$dir/time"
  decisions=$(grep -c . "$dir/out")
  awk -v u="$user" -v s="$sys" -v n="$minutes" -v r="$rss" -v d="$decisions" 'BEGIN {
    printf "%d iterations: %.3f ms CPU per iteration (user+sys %.2f s, %d output lines), peak RSS %.1f MiB\n",
      n, (u + s) * 1000 / n, u + s, d, r / 1024 }'
done
