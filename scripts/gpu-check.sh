#!/usr/bin/env bash
# The GPU checks, in one script, under 8 minutes (time limits 150 + 30 + 60 +
# 220 s, not counting a build): the CUDA-vs-CPU property
# tests, NCCL across the visible GPUs, check-golden on the GPU, and the
# training benchmark (128x128, --cfg=auto, batch 32 on one GPU: the
# configuration of the official "Expected training time" table). Ends with
# one table.
#
#   scripts/gpu-check.sh                 build here (needs cargo), then run
#   scripts/gpu-check.sh --bundle DIR    build here and copy the binaries, the
#                                        golden data and this script into DIR
#   DIR/gpu-check.sh --bin-dir DIR       run from such a bundle on a GPU machine
#                                        with no Rust toolchain
#
# Environment: TCGAN_GOLDEN_DIR (default ../shared/golden, or DIR/golden in a
# bundle), TCGAN_GOLDEN_GROUPS (groups to check; default: the implemented
# groups listed in scripts/test.sh, carried into a bundle as golden-groups),
# TCGAN_BENCH (benchmark name given to `train --bench`, default auto128),
# TCGAN_BENCH_FP16=1 (time it with the f16 blocks on, `train --fp16`),
# TCGAN_CUDA_LIB (folders to add to LD_LIBRARY_PATH for libnvrtc/libcublas/libnccl;
# unset, the script looks in /usr/local/cuda* and in python3's nvidia wheels),
# TCGAN_CUDA_MAJOR (12 or 13 when building: which CUDA libraries the binaries
# load, features `cuda` or `cuda13`; default 12, kept in a bundle as cuda-major).
# The Inception weights (84 MB) are not bundled: without them on the GPU machine
# ($TCGAN_CACHE_DIR/default_1.pt, or DIR/cache/default_1.pt) the inception
# group is left out of check-golden and the table says so.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mode=build
bin_dir=""
bundle_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir="$2"; mode=run; shift 2 ;;
    --bundle) bundle_dir="$2"; mode=bundle; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
done

# The implemented golden groups: scripts/test.sh's default list.
default_groups() {
  local f="$here/test.sh"
  [ -f "$here/golden-groups" ] && { cat "$here/golden-groups"; return; }
  [ -f "$f" ] && sed -n 's/^GOLDEN_GROUPS="${TCGAN_GOLDEN_GROUPS:-\(.*\)}"$/\1/p' "$f"
}
groups="${TCGAN_GOLDEN_GROUPS:-$(default_groups)}"

# The CUDA major version of the build: the environment, a bundle's record, or 12.
major="${TCGAN_CUDA_MAJOR:-}"
[ -z "$major" ] && [ -f "$here/cuda-major" ] && major="$(cat "$here/cuda-major")"
major="${major:-12}"
case "$major" in
  12) feature=cuda; target_dir=target ;;
  13) feature=cuda13; target_dir=target/cuda13 ;;
  *) echo "gpu-check: TCGAN_CUDA_MAJOR must be 12 or 13" >&2; exit 2 ;;
esac

# Builds the binaries (release, with CUDA) and copies them into $1.
build_into() {
  local out="$1" root="$here/.."
  mkdir -p "$out"
  export CARGO_TARGET_DIR="$target_dir"
  (cd "$root" && cargo build --release -q -p tcgan-tests --features "$feature" --bin check-golden) || return 1
  cp "$root/$target_dir/release/check-golden" "$out/"
  (cd "$root" && cargo build --release -q -p tcgan-apps --features "$feature" --bin train) || return 1
  cp "$root/$target_dir/release/train" "$out/"
  # The test binaries: cargo names them with a hash, the JSON messages say which.
  (cd "$root" && cargo test --release -q -p tcgan-ops-cuda --features "$feature" --no-run --message-format=json) |
    python3 -c '
import json, shutil, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    t = m.get("target", {})
    if m.get("executable") and t.get("name") in ("cuda_vs_cpu", "multi_gpu"):
        shutil.copy(m["executable"], sys.argv[1] + "/" + t["name"])
' "$out" || return 1
}

case "$mode" in
  bundle)
    build_into "$bundle_dir" || { echo "gpu-check: build failed" >&2; exit 1; }
    golden="${TCGAN_GOLDEN_DIR:-$here/../../shared/golden}"
    [ -d "$golden" ] && cp -r "$golden" "$bundle_dir/golden"
    cp "$0" "$bundle_dir/gpu-check.sh"
    printf '%s\n' "$groups" > "$bundle_dir/golden-groups"
    printf '%s\n' "$major" > "$bundle_dir/cuda-major"
    echo "bundle ready in $bundle_dir: run $bundle_dir/gpu-check.sh --bin-dir $bundle_dir on the GPU machine"
    exit 0 ;;
  build)
    bin_dir="$here/../target/gpu-check"
    build_into "$bin_dir" || { echo "gpu-check: build failed" >&2; exit 1; }
    golden="${TCGAN_GOLDEN_DIR:-$here/../../shared/golden}" ;;
  run)
    golden="${TCGAN_GOLDEN_DIR:-$bin_dir/golden}" ;;
esac

# Folders holding this build's CUDA libraries: given, or found in the usual places
# (a toolkit under /usr/local, or the nvidia-* wheels of python3's environment).
cuda_lib="${TCGAN_CUDA_LIB:-}"
if [ -z "$cuda_lib" ]; then
  wheels="$(python3 -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null || true)"
  for lib in "libnvrtc.so.$major" "libcublas.so.$major" libnccl.so.2; do
    found="$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib ${wheels:+"$wheels/nvidia"} \
      -name "$lib" 2>/dev/null | head -1)"
    [ -n "$found" ] && cuda_lib="${cuda_lib:+$cuda_lib:}$(dirname "$found")"
  done
fi
if [ -n "$cuda_lib" ]; then
  export LD_LIBRARY_PATH="$cuda_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# A bundle may carry its own cache folder (Inception weights).
[ -z "${TCGAN_CACHE_DIR:-}" ] && [ -f "$bin_dir/cache/default_1.pt" ] && export TCGAN_CACHE_DIR="$bin_dir/cache"
weights="${TCGAN_CACHE_DIR:-$HOME/.cache/tcgan}/default_1.pt"

rows=()
row() { rows+=("$(printf '| %-22s | %-44s | %s |' "$1" "$2" "$3")"); }
status=0

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
row "GPU" "${gpu:-nvidia-smi not found}" "$(nvidia-smi -L 2>/dev/null | wc -l) visible"
row "CUDA libraries" "CUDA $major build (--features $feature)" "${cuda_lib:-none added to LD_LIBRARY_PATH}"
if [[ ",$groups," == *",inception,"* ]] && [ ! -f "$weights" ]; then
  groups="$(printf '%s' ",$groups," | sed 's/,inception,/,/; s/^,//; s/,$//')"
  row "check-golden inception" "left out: no Inception weights" "$weights (scripts/fetch-inception.sh)"
fi

# Runs a step with a time limit; sets $out, $rc, $secs.
step() {
  local limit="$1"; shift
  local t0=$SECONDS
  out="$(timeout "$limit" "$@" 2>&1)"; rc=$?
  secs=$((SECONDS - t0))
}

for t in cuda_vs_cpu multi_gpu; do
  if [ ! -x "$bin_dir/$t" ]; then
    row "$t" "not run: no binary in $bin_dir" ""; status=1; continue
  fi
  limit=150; [ "$t" = multi_gpu ] && limit=30
  step "$limit" "$bin_dir/$t"
  echo "$out" | grep -v ' ok$' | tail -40
  summary="$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)"
  [ $rc -eq 124 ] && summary="timed out after ${secs} s"
  [ $rc -ne 0 ] && status=1
  # On a GPU machine the property tests must run; multi_gpu may skip on one GPU.
  [ "$t" = cuda_vs_cpu ] && [[ "$summary" != *" 0 skipped"* ]] && status=1
  row "$t" "${summary:-exit code $rc}" "${secs} s"
done

if [ -z "$groups" ]; then
  row "check-golden (cuda)" "not run: no golden group is implemented yet" "set TCGAN_GOLDEN_GROUPS to choose"
elif [ -x "$bin_dir/check-golden" ] && [ -d "$golden" ]; then
  args=("$golden" --device cuda --only "$groups")
  step 60 "$bin_dir/check-golden" "${args[@]}"
  echo "$out" | grep -v ' PASS ' | tail -40
  summary="$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)"
  [ $rc -ne 0 ] && status=1
  row "check-golden (cuda)" "${summary:-exit code $rc: $(echo "$out" | tail -1 | cut -c1-60)}" "${secs} s, groups $groups"
else
  row "check-golden (cuda)" "not run: binary or golden folder missing" "$golden"; status=1
fi

bench="${TCGAN_BENCH:-auto128}"
bench_flags=()
[ "${TCGAN_BENCH_FP16:-0}" = 1 ] && bench_flags=(--fp16)
if [ -x "$bin_dir/train" ]; then
  step 220 "$bin_dir/train" --bench "$bench" --device cuda "${bench_flags[@]}"
  last="$(echo "$out" | tail -1)"
  if [[ "$last" == "$bench sec/kimg="* ]]; then
    row "train --bench $bench" "${last#"$bench "}" "${secs} s; official: 12.5-13.7 s/kimg on V100, 6.79 on A100"
  else
    row "train --bench $bench" "failed (exit $rc): $(echo "$last" | cut -c1-60)" "${secs} s"; status=1
  fi
else
  row "train --bench $bench" "not run: no train binary (no training loop yet)" ""
fi

echo
printf '| %-22s | %-44s | %s |\n' "check" "result" "detail"
printf '|%s|%s|%s|\n' "------------------------" "----------------------------------------------" "--------"
printf '%s\n' "${rows[@]}"
exit $status
