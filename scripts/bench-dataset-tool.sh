#!/usr/bin/env bash
# Benchmarks dataset_tool on 2,000 256x256 JPEGs -> 128x128 center-crop (Lanczos), and, when
# OFFICIAL_DATASET_TOOL points to the official dataset_tool.py, times it on the same folder
# right after (PYTHON selects the interpreter, which needs Pillow, numpy, click and tqdm).
# Prints images/s (median and min-max of the runs) and CPU seconds per 1000 images (steadier
# than wall time on a shared machine). Run it on a quiet machine.
#
#   scripts/bench-dataset-tool.sh
#   OFFICIAL_DATASET_TOOL=../official/dataset_tool.py PYTHON=venv/bin/python scripts/bench-dataset-tool.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TCGAN_BENCH_DIR="${TCGAN_BENCH_DIR:-$PWD/target/bench-dataset-tool}"
runs="${TCGAN_BENCH_RUNS:-5}"
export TCGAN_BENCH_RUNS="$runs"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d), load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench --quiet -p tcgan-apps --bench dataset_tool

if [ -n "${OFFICIAL_DATASET_TOOL:-}" ]; then
  lines=()
  for _ in $(seq "$runs"); do
    rm -f "$TCGAN_BENCH_DIR/official.zip"
    # real, user and system seconds of one run
    t=$( { TIMEFORMAT='%R %U %S'; time "${PYTHON:-python3}" "$OFFICIAL_DATASET_TOOL" \
      --source "$TCGAN_BENCH_DIR/src" --dest "$TCGAN_BENCH_DIR/official.zip" \
      --transform=center-crop --width=128 --height=128 >/dev/null 2>&1; } 2>&1 )
    lines+=("$t")
  done
  rm -f "$TCGAN_BENCH_DIR/official.zip"
  median() { awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  rates=$(printf '%s\n' "${lines[@]}" | awk '{ printf "%.0f\n", 2000 / $1 }' | sort -n)
  cpus=$(printf '%s\n' "${lines[@]}" | awk '{ printf "%.2f\n", ($2 + $3) * 1000 / 2000 }' | sort -n)
  echo "| official dataset_tool.py (1 process) | $(median <<<"$rates") | $(head -1 <<<"$rates")-$(tail -1 <<<"$rates") | $(median <<<"$cpus") |"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
