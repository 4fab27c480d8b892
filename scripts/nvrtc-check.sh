#!/usr/bin/env bash
# Compiles every CUDA kernel source of tcgan-ops-cuda with NVRTC for sm_75,
# sm_86 and sm_90 (or the architectures given with --arch), on a machine
# without a GPU: a syntax or type error in a kernel fails here. Prints one line
# per kernel and `N kernels compiled, M failed`.
#
# libnvrtc comes from the PyPI wheel nvidia-cuda-nvrtc-cu12, installed by
# .ci/run into target/nvrtc (or point TCGAN_NVRTC_LIB at a folder holding
# libnvrtc.so.12, e.g. a CUDA 12 toolkit's lib64).
set -euo pipefail
cd "$(dirname "$0")/.."

WHEEL_DIR="${TCGAN_NVRTC_WHEEL_DIR:-target/nvrtc}"
LIB="${TCGAN_NVRTC_LIB:-$WHEEL_DIR/nvidia/cuda_nvrtc/lib}"
if [ ! -e "$LIB/libnvrtc.so.12" ]; then
  echo "nvrtc-check: no libnvrtc.so.12 in $LIB; install it with" >&2
  echo "  python3 -m pip install --target $WHEEL_DIR nvidia-cuda-nvrtc-cu12==12.9.86" >&2
  exit 2
fi
cargo build --release -q -p tcgan-ops-cuda --features cuda --bin nvrtc-check
LD_LIBRARY_PATH="$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" target/release/nvrtc-check "$@"
