#!/usr/bin/env bash
# Re-creates examples/emoji32.zip from the npm package emoji-datasource-google@16.0.0:
# the 1,906 base Google/Noto emoji images of img/google/64/ (no skin-tone variants; the five
# "Component" swatches left out), one class folder per emoji.json `category` (9 classes),
# converted by our dataset_tool to 32x32 RGB (transparent pixels composited over white,
# Lanczos). Needs npm (and its node), tar and cargo. Usage: scripts/make-emoji32.sh [DEST]
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-examples/emoji32.zip}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

npm pack --silent emoji-datasource-google@16.0.0 --pack-destination "$work" >/dev/null
tar xzf "$work"/emoji-datasource-google-16.0.0.tgz -C "$work"

node - "$work/package" "$work/src" <<'JS'
const fs = require('fs'), path = require('path');
const [pkg, out] = process.argv.slice(2);
const emoji = JSON.parse(fs.readFileSync(path.join(pkg, 'emoji.json'), 'utf8'));
const counts = {};
for (const e of emoji) {
  const img = path.join(pkg, 'img/google/64', e.image);
  if (!e.has_img_google || e.category === 'Component' || !fs.existsSync(img)) continue;
  const dir = path.join(out, e.category);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(img, path.join(dir, e.image));
  counts[e.category] = (counts[e.category] || 0) + 1;
}
const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.error(`${total} images in ${Object.keys(counts).length} classes`, counts);
if (total !== 1906) { console.error('expected 1906 images'); process.exit(1); }
JS

cargo run --quiet --release -p tcgan-apps --bin dataset_tool -- \
  --source "$work/src" --dest "$dest" --width=32 --height=32 --quiet
