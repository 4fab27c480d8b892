#!/usr/bin/env bash
# The project's test command: formatting, lints, every test (release profile:
# the numeric tests are heavy), and the golden vectors of every implemented group.
set -euo pipefail
cd "$(dirname "$0")/.."

GOLDEN_DIR="${TCGAN_GOLDEN_DIR:-../shared/golden}"
# Groups of ../shared/golden whose cases tcgan implements.
GOLDEN_GROUPS="${TCGAN_GOLDEN_GROUPS:-ops,networks,loss,augment,metrics,inception,dataset_tool}"

# What a fresh machine lacks: the lint components, and the Inception weights that
# check-golden's inception group reads (downloaded once, SHA-1 checked).
rustup component add rustfmt clippy >/dev/null 2>&1 || true
case ",$GOLDEN_GROUPS," in
  *,inception,*) scripts/fetch-inception.sh ;;
esac

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --release -- -D warnings
# The CUDA backend builds without a CUDA toolkit: keep it compiling and linted,
# for CUDA 12 and (in its own target folder, as scripts/nvrtc-check.sh) CUDA 13.
cargo clippy -p tcgan-ops-cuda --features cuda --all-targets --release -- -D warnings
CARGO_TARGET_DIR=target/cuda13 cargo clippy -p tcgan-ops-cuda -p tcgan-apps -p tcgan-tests \
  --features tcgan-ops-cuda/cuda13,tcgan-apps/cuda13,tcgan-tests/cuda13 --all-targets --release -- -D warnings
echo "== cargo test"
cargo test --workspace --release
# Unit tests of the CUDA backend; its GPU property tests report "skipped" without a GPU.
cargo test -p tcgan-ops-cuda --features cuda --release
if [ -n "$GOLDEN_GROUPS" ]; then
  echo "== check-golden $GOLDEN_DIR --only $GOLDEN_GROUPS"
  cargo run --release -q -p tcgan-tests --bin check-golden -- "$GOLDEN_DIR" --only "$GOLDEN_GROUPS"
fi
