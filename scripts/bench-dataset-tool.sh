#!/usr/bin/env bash
# Benchmarks dataset_tool on 2,000 256x256 JPEGs -> 128x128 center-crop (Lanczos), and, when
# OFFICIAL_DATASET_TOOL points to the official dataset_tool.py, times it on the same folder
# right after (PYTHON selects the interpreter, which needs Pillow, numpy, click and tqdm).
# Prints images/s: median and min-max of the runs. Run it on a quiet machine.
#
#   scripts/bench-dataset-tool.sh
#   OFFICIAL_DATASET_TOOL=../official/dataset_tool.py PYTHON=venv/bin/python scripts/bench-dataset-tool.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TCGAN_BENCH_DIR="${TCGAN_BENCH_DIR:-$PWD/target/bench-dataset-tool}"
runs="${TCGAN_BENCH_RUNS:-5}"
export TCGAN_BENCH_RUNS="$runs"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
cargo bench --quiet -p tcgan-apps --bench dataset_tool

if [ -n "${OFFICIAL_DATASET_TOOL:-}" ]; then
  rates=()
  for r in $(seq "$runs"); do
    rm -f "$TCGAN_BENCH_DIR/official.zip"
    start=$(date +%s.%N)
    "${PYTHON:-python3}" "$OFFICIAL_DATASET_TOOL" --source "$TCGAN_BENCH_DIR/src" \
      --dest "$TCGAN_BENCH_DIR/official.zip" --transform=center-crop --width=128 --height=128 \
      >/dev/null 2>&1
    end=$(date +%s.%N)
    rates+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", 2000 / (e - s) }')")
  done
  rm -f "$TCGAN_BENCH_DIR/official.zip"
  printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    printf "| official dataset_tool.py (1 process) | %.0f | %.0f-%.0f |\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
fi
