#!/usr/bin/env bash
# Prepares, HERE (no GPU needed), everything bench/device-check.sh needs on the GPU machine,
# which has no Node, no network and must build nothing. Writes the git-ignored .devtools/:
#
#   node.xz                  this machine's node binary, stripped, xz-compressed
#   sbert_native.node.xz     build/Release/sbert_native.node (the CUDA-enabled addon)
#   cuda_kernels_test.xz     build/tests/cuda_kernels_test
#   node_modules/            uvu and its dependencies (the GPU tests are uvu files)
#   stsb-sentences.txt       the first 10,000 unique STS Benchmark sentences (train, dev, test
#                            in that order, sentence 1 before sentence 2), one per line
#
# dist/ (tsc output) is carried as it is. Then, with the device tool:
#   run(command: "bash bench/device-check.sh", carry: [".devtools", "dist"], timeout_s: 600)
# The model weights are NOT carried: device-check.sh generates them there (bench/reference/
# make_models.py), so the carried tree stays under the tool's 64 MiB.
#
# Prerequisites: `npx tsc -p tsconfig.json && npx cmake-js compile --out build` with nvcc on PATH.
# Usage: bash bench/prepare-device.sh [--stsb DIR]   (default $STSB_DIR or /work/shared/data/stsbenchmark)
#        BUILD_DIR=build-other bash bench/prepare-device.sh   to pack another cmake-js build folder
set -euo pipefail
cd "$(dirname "$0")/.."
STSB="${STSB_DIR:-/work/shared/data/stsbenchmark}"
if [ "${1:-}" = "--stsb" ]; then STSB="$2"; fi
B="${BUILD_DIR:-build}"  # the cmake-js build folder to pack (default build/)
D=.devtools
mkdir -p "$D"

for f in "$B/Release/sbert_native.node" "$B/tests/cuda_kernels_test" dist/index.js dist/npy.js; do
  if [ ! -e "$f" ]; then
    echo "missing $f: build first (npx tsc -p tsconfig.json && npx cmake-js compile --out build)" >&2
    exit 1
  fi
done
compiled=$(SBERT_NATIVE_ADDON="$PWD/$B/Release/sbert_native.node" node -e "process.stdout.write(String(require('./dist').buildInfo().cuda.compiled))")
if [ "$compiled" != "true" ]; then
  echo "$B/Release/sbert_native.node has no CUDA engine (buildInfo().cuda.compiled = $compiled): rebuild with nvcc on PATH" >&2
  exit 1
fi

echo "packing the addon and the CUDA kernel test"
xz -T0 -6 -c "$B/Release/sbert_native.node" > "$D/sbert_native.node.xz"
xz -T0 -6 -c "$B/tests/cuda_kernels_test" > "$D/cuda_kernels_test.xz"

NODE_BIN=$(readlink -f "$(command -v node)")
if [ ! -s "$D/node.xz" ] || [ "$NODE_BIN" -nt "$D/node.xz" ]; then
  echo "packing node ($NODE_BIN, $(node --version)); xz -9 takes a few minutes"
  tmp=$(mktemp)
  strip -o "$tmp" "$NODE_BIN" 2>/dev/null || cp "$NODE_BIN" "$tmp"
  xz -T0 -9 -c "$tmp" > "$D/node.xz.partial"
  mv "$D/node.xz.partial" "$D/node.xz"
  rm -f "$tmp"
fi

rm -rf "$D/node_modules"
mkdir -p "$D/node_modules"
for p in uvu dequal diff kleur sade mri; do cp -r "node_modules/$p" "$D/node_modules/"; done

python3 - "$STSB" > "$D/stsb-sentences.txt" <<'EOF'
import csv, os, sys
d = sys.argv[1]
seen, out = set(), []
for split in ('train', 'dev', 'test'):
    with open(os.path.join(d, f'sts-{split}.csv'), encoding='utf-8') as f:
        for row in csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE):
            if len(row) < 7:
                continue
            for s in (row[5], row[6]):
                s = s.strip().replace('\n', ' ')
                if s and s not in seen:
                    seen.add(s)
                    out.append(s)
if len(out) < 10000:
    sys.exit(f'only {len(out)} unique sentences in {d}')
print('\n'.join(out[:10000]))
EOF
echo "sentences: $(wc -l < "$D/stsb-sentences.txt") lines"

# What travels: tracked + untracked-not-ignored files, plus the carried paths.
tree_kb=$( (git ls-files -z; git ls-files --others --exclude-standard -z) | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
carry_kb=$(du -sk "$D" dist | awk '{s += $1} END {print s}')
total_mb=$(( (tree_kb + carry_kb) / 1024 ))
echo "travelling: tree ${tree_kb} KiB + carried ${carry_kb} KiB = ${total_mb} MiB (the device tool's limit is 64 MiB)"
if [ "$total_mb" -ge 63 ]; then
  echo "WARNING: too close to (or over) the 64 MiB limit — slim the tree or the carried files" >&2
fi
echo 'ready: run(command: "bash bench/device-check.sh", carry: [".devtools", "dist"], timeout_s: 600)'
