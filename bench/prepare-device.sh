#!/usr/bin/env bash
# Prepares, HERE (no GPU needed, nvcc needed), everything bench/device-check.sh needs on the GPU
# machine, which has no Node, no network and must build nothing:
#
#   1. builds dist/ (tsc) and the CUDA addon + test and bench binaries for sm_90 only (the H100/H200 lent
#      here): npx cmake-js compile --out build-cuda --CDSBERT_CUDA=ON --CDSBERT_CUDA_ARCHS=90
#      (SKIP_BUILD=1 packs what is there; BUILD_DIR=... picks another build folder);
#   2. writes the git-ignored .devtools/, the one path to carry:
#        node.xz          this machine's node, stripped, xz with the x86 filter (-9e); rebuilt
#                         only when the node binary changes (it takes minutes on 2 cores)
#        node.version     which node that is
#        payload.tar.xz   ONE xz stream (so the GPU code the addon and the CUDA binaries share
#                         is compressed once): build/Release/sbert_native.node,
#                         build/tests/cuda_ops_test, build/tests/cuda_engine_test,
#                         build/bench/cuda_kernels_bench, dist/**/*.js (no maps, no .d.ts), uvu
#                         and its dependencies under node_modules/, .devtools/stsb-sentences.txt
#                         (the first 10,000 unique STS Benchmark sentences)
#      device-check.sh unpacks it into the working tree there (xz, or Python's lzma);
#   3. takes the bundled model (models/default-en) and its corpus out of the working tree (they
#      are tracked; `git checkout -- models/default-en tools/default-model/corpus-default-en.txt.gz`
#      restores them after the run), then measures the exact bytes that travel
#      (tools/travel-size.js: tracked files, untracked files git does not ignore, shared/, and
#      .devtools) and REFUSES (exit 1) above 63 MiB, saying what to drop. The device tool's limit is 64 MiB; the tree alone is ~37 MiB, most of it
#      test/fixtures (the GPU tests and make_models.py need them there).
# Then, with the device tool:
#   run(command: "bash bench/device-check.sh", carry: [".devtools"], timeout_s: 480)
# The tool sends the SESSION's checkout (not a helper's worktree): run this script there, or
# measure there with `node tools/travel-size.js .devtools`.
#
# Usage: bash bench/prepare-device.sh [--stsb DIR]   (default $STSB_DIR or /work/shared/data/stsbenchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
STSB="${STSB_DIR:-/work/shared/data/stsbenchmark}"
if [ "${1:-}" = "--stsb" ]; then STSB="$2"; fi
B="${BUILD_DIR:-build-cuda}"
D=.devtools
LIMIT_MIB=63

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building dist/ and $B/ (CUDA, sm_90 only)"
  npx tsc -p tsconfig.json
  nice npx cmake-js compile --out "$B" --CDSBERT_CUDA=ON --CDSBERT_CUDA_ARCHS=90
fi
CUDA_BINARIES=(tests/cuda_ops_test tests/cuda_engine_test bench/cuda_kernels_bench)
for f in "$B/Release/sbert_native.node" "${CUDA_BINARIES[@]/#/$B/}" dist/index.js dist/npy.js; do
  if [ ! -e "$f" ]; then
    echo "missing $f: build first (or drop SKIP_BUILD)" >&2
    exit 1
  fi
done
compiled=$(SBERT_NATIVE_ADDON="$PWD/$B/Release/sbert_native.node" node -e "process.stdout.write(String(require('./dist').buildInfo().cuda.compiled))")
if [ "$compiled" != "true" ]; then
  echo "$B/Release/sbert_native.node has no CUDA engine (buildInfo().cuda.compiled = $compiled): rebuild with nvcc on PATH" >&2
  exit 1
fi
# sm_90 only: what the build was configured with, and (where cuobjdump exists) what it holds.
configured=$(sed -n 's/^SBERT_CUDA_ARCHS:[A-Z]*=//p' "$B/CMakeCache.txt" 2> /dev/null)
if [ "$configured" != "90" ]; then
  echo "$B was configured with SBERT_CUDA_ARCHS='$configured', not 90: rebuild (drop SKIP_BUILD)" >&2
  exit 1
fi
CUOBJDUMP=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2> /dev/null || true)
if [ -n "$CUOBJDUMP" ]; then
  archs=$("$CUOBJDUMP" --list-elf "$B/Release/sbert_native.node" 2> /dev/null | grep -o 'sm_[0-9]*a\?' | sort -u | tr '\n' ' ')
  echo "GPU code in the addon: ${archs:-none found}"
  if [ -n "$archs" ] && [ "$archs" != "sm_90 " ]; then
    echo "the addon holds GPU code for more than sm_90 ($archs): rebuild with --CDSBERT_CUDA_ARCHS=90" >&2
    exit 1
  fi
fi

mkdir -p "$D"
# Only what this script writes travels: drop anything else (older layouts, leftovers).
find "$D" -mindepth 1 -maxdepth 1 ! -name node.xz ! -name node.version -exec rm -rf {} +

NODE_BIN=$(readlink -f "$(command -v node)")
NODE_ID="$NODE_BIN $(node --version) $(stat -c '%s %Y' "$NODE_BIN")"
if [ ! -s "$D/node.xz" ] || [ "$(cat "$D/node.version" 2> /dev/null)" != "$NODE_ID" ]; then
  echo "packing node ($NODE_ID): strip, xz --x86 -9e; several minutes on 2 cores"
  tmp=$(mktemp)
  strip -o "$tmp" "$NODE_BIN" 2> /dev/null || cp "$NODE_BIN" "$tmp"
  nice xz -T1 --x86 --lzma2=preset=9e -c "$tmp" > "$D/node.xz.partial"
  mv "$D/node.xz.partial" "$D/node.xz"
  echo "$NODE_ID" > "$D/node.version"
  rm -f "$tmp"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/build/Release" "$stage/build/tests" "$stage/build/bench" "$stage/node_modules" "$stage/$D"
cp "$B/Release/sbert_native.node" "$stage/build/Release/"
for f in "${CUDA_BINARIES[@]}"; do
  cp "$B/$f" "$stage/build/$f"
  strip --strip-unneeded "$stage/build/$f" 2> /dev/null || true
done
strip --strip-unneeded "$stage/build/Release/sbert_native.node" 2> /dev/null || true
find dist -name '*.js' -exec cp --parents {} "$stage" \;
for p in uvu dequal diff kleur sade mri; do cp -r "node_modules/$p" "$stage/node_modules/"; done

python3 - "$STSB" > "$stage/$D/stsb-sentences.txt" << 'EOF'
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
echo "sentences: $(wc -l < "$stage/$D/stsb-sentences.txt") lines"

echo "packing the payload (addon, CUDA tests and bench, dist/**/*.js, uvu, sentences) into one xz stream"
# -9: a 64 MiB dictionary, so each binary's copy of the GPU code matches the addon's.
tar -C "$stage" --owner=0 --group=0 --sort=name -cf - build dist node_modules "$D" \
  | nice xz -T1 --x86 --lzma2=preset=9 -c > "$D/payload.tar.xz"
ls -la "$D"

# The bundled model and its corpus (~25 MiB, tracked) are not needed on the GPU machine and do
# not fit beside the payload: take them out of the working tree for the run (a tracked file
# deleted from the tree does not travel); git restores them afterwards. Refused when they have
# uncommitted changes, which git could not restore.
AWAY=(models/default-en tools/default-model/corpus-default-en.txt.gz)
if [ -n "$(git status --porcelain --untracked-files=all -- "${AWAY[@]}")" ]; then
  echo "refusing: ${AWAY[*]} have uncommitted changes; commit them first (they are restored from git after the run)" >&2
  exit 1
fi
rm -rf "${AWAY[@]}"
echo "took ${AWAY[*]} out of the working tree for the device run; restore them afterwards with:"
echo "  git checkout -- ${AWAY[*]}"

echo
echo "what travels (exact bytes):"
node tools/travel-size.js --limit-mib "$LIMIT_MIB" "$D"
echo 'ready: run(command: "bash bench/device-check.sh", carry: [".devtools"], timeout_s: 480)'
echo "then: git checkout -- ${AWAY[*]}"
