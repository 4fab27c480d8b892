#!/usr/bin/env bash
# Compiles every CUDA kernel source of tcgan-ops-cuda with NVRTC for sm_75,
# sm_86 and sm_90 (or the architectures given with --arch), on a machine
# without a GPU: a syntax or type error in a kernel fails here. Prints one line
# per kernel and `N kernels compiled, M failed`.
#
# TCGAN_CUDA_MAJOR=12 (default) checks the `cuda` build with CUDA 12.9's NVRTC,
# from the PyPI wheel nvidia-cuda-nvrtc-cu12 that .ci/run installs into
# target/nvrtc; TCGAN_CUDA_MAJOR=13 checks the `cuda13` build with CUDA 13.0's,
# from the wheel nvidia-cuda-nvrtc 13.0 in target/nvrtc13 (built in
# target/cuda13, so that the two builds do not replace each other). Or point
# TCGAN_NVRTC_LIB at a folder holding the library, e.g. a toolkit's lib64.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${TCGAN_CUDA_MAJOR:-12}" in
  12) feature=cuda; wheel="nvidia-cuda-nvrtc-cu12==12.9.86"; dir=target/nvrtc
      sub=nvidia/cuda_nvrtc/lib; target_dir=target ;;
  13) feature=cuda13; wheel="nvidia-cuda-nvrtc==13.0.88"; dir=target/nvrtc13
      sub=nvidia/cu13/lib; target_dir=target/cuda13 ;;
  *) echo "nvrtc-check: TCGAN_CUDA_MAJOR must be 12 or 13" >&2; exit 2 ;;
esac
major="${TCGAN_CUDA_MAJOR:-12}"
WHEEL_DIR="${TCGAN_NVRTC_WHEEL_DIR:-$dir}"
LIB="${TCGAN_NVRTC_LIB:-$WHEEL_DIR/$sub}"
if [ ! -e "$LIB/libnvrtc.so.$major" ]; then
  echo "nvrtc-check: no libnvrtc.so.$major in $LIB; install it with" >&2
  echo "  python3 -m pip install --target $WHEEL_DIR $wheel" >&2
  exit 2
fi
CARGO_TARGET_DIR="$target_dir" cargo build --release -q -p tcgan-ops-cuda --features "$feature" --bin nvrtc-check
LD_LIBRARY_PATH="$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$target_dir/release/nvrtc-check" "$@"
