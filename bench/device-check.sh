#!/usr/bin/env bash
# ==============================================================================================
#  NOT YET RUN ON A GPU. Written on a machine without one (issue #6): every step is untested
#  there. The first session with an H100/H200 runs it, reads the log, and fixes what breaks.
# ==============================================================================================
#
# The one script that proves the CUDA side on a machine with an NVIDIA GPU (DESIGN.md, "GPU
# checks"). It builds nothing: bench/prepare-device.sh packed the addon, the CUDA kernel test,
# Node and the sentences into .devtools/ beforehand, on a machine with nvcc. Run it with the
# device tool:
#     run(command: "bash bench/device-check.sh", carry: [".devtools", "dist"], timeout_s: 600)
# Steps (each with its own timeout; a failing step is recorded and the rest still run):
#   1. the card (nvidia-smi), Node and the addon unpacked, buildInfo() / cudaDevices()
#   2. the GPU tests: node test/run.js --gpu-only (test/gpu/*.test.js: the CUDA kernels vs the
#      CPU kernels via build/tests/cuda_kernels_test, the engine vs the CPU engine and the
#      reference fixtures, batch independence, OOM recovery)
#   3. kernel timings at BERT-base shapes (cuda_kernels_test --bench-only; never asserted)
#   4. random-weight MiniLM-L6- and BERT-base-shaped model folders, generated here with torch
#      (bench/reference/make_models.py, seeded), with the real bert-base-uncased tokenizer
#   5. ours: bench/encode-throughput.js, 10,000 STSb sentences, fp16, several token budgets
#   6. sentence-transformers: bench/reference/st_encode.py, same folders and sentences, fp32 once
#      (the reference embeddings), then model.half() at batch sizes 32/128/512
#   6b. similarity: bench/similarity.js (CUDA, 100k x 100k top-10) vs bench/reference/torch_topk.py
#   7. one table (bench/reference/compare.py): cosine ours vs ST per model (min and mean),
#      sentences/s for both, the ratio, the card
# Output, in $OUT (the device tool's folder; /tmp/sbert-device-check otherwise):
#   device-check.log (everything), gpu-tests.log, kernels-bench.log, nvidia-smi.txt,
#   device-check.json (the summary). Exit status: 0 only when every step passed.
# SKIP_TESTS=1 skips step 2 (when re-running only the benchmark inside the 10-minute limit).
# Expected: a few minutes on an H100 (not measured yet); the per-step timeouts are upper bounds.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/sbert-device-check}"
WORK=/tmp/sbert-device-work
mkdir -p "$OUT"
rm -rf "$WORK"
mkdir -p "$WORK"
export PYTHONUNBUFFERED=1

failures=()
step() { echo; echo "=== $* ($(date +%T))"; }
run_step() {  # run_step NAME TIMEOUT_S CMD...
  local name=$1 limit=$2
  shift 2
  timeout "$limit" "$@"
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "!!! step '$name' failed (exit $rc$([ $rc -eq 124 ] && echo ', timed out after '"$limit"'s'))"
    failures+=("$name")
  fi
  return $rc
}

main() {
step "1. card, node, addon"
nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt"
CARD=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
echo "card: ${CARD:-unknown}"
xz -dc .devtools/node.xz > /tmp/node && chmod +x /tmp/node
mkdir -p /tmp/nodebin && ln -sf /tmp/node /tmp/nodebin/node
export PATH="/tmp/nodebin:$PATH"
mkdir -p build/Release build/tests
xz -dc .devtools/sbert_native.node.xz > build/Release/sbert_native.node
xz -dc .devtools/cuda_kernels_test.xz > build/tests/cuda_kernels_test
chmod +x build/tests/cuda_kernels_test
[ -e node_modules ] || ln -s .devtools/node_modules node_modules
node --version
node -e "const s = require('./dist'); console.log('buildInfo', JSON.stringify(s.buildInfo())); console.log('cudaDevices', JSON.stringify(s.cudaDevices()))" \
  || failures+=("addon")

step "2. GPU tests (node test/run.js --gpu-only)"
if [ -n "${SKIP_TESTS:-}" ]; then
  echo "skipped (SKIP_TESTS set)" > "$OUT/gpu-tests.log"
  tests_rc=0
else
  run_step gpu-tests 360 node test/run.js --gpu-only > "$OUT/gpu-tests.log" 2>&1
  tests_rc=$?
fi
tail -n 60 "$OUT/gpu-tests.log"
TESTS="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/gpu-tests.log" | tail -1)"
[ $tests_rc -eq 0 ] && TESTS="pass: $TESTS" || TESTS="FAIL (exit $tests_rc): $TESTS"

step "3. kernel timings (cuda_kernels_test --bench-only)"
run_step kernel-bench 90 build/tests/cuda_kernels_test --bench-only > "$OUT/kernels-bench.log" 2>&1
cat "$OUT/kernels-bench.log"

step "4. random-weight models (MiniLM-L6, BERT-base shapes)"
run_step make-models 120 python3 bench/reference/make_models.py --out "$WORK/models"
MODELS="$WORK/models/minilm-l6,$WORK/models/bert-base"

step "5. ours: encode-throughput.js (fp16)"
run_step ours 240 node bench/encode-throughput.js --models "$MODELS" --sentences .devtools/stsb-sentences.txt \
  --out "$WORK" --precisions fp16 --batch-tokens 8192,32768,131072 --reps 3

step "6. sentence-transformers (fp32 reference, fp16 timings)"
run_step sentence-transformers 300 python3 bench/reference/st_encode.py --models "$MODELS" \
  --sentences .devtools/stsb-sentences.txt --out "$WORK" --batch-sizes 32,128,512 --reps 3

step "6b. similarity search 100k x 100k, dim 384, top-10: ours (CUDA) vs torch fp16 matmul+topk"
run_step similarity-ours 180 node bench/similarity.js --only search --device cuda --nq 100000 --nc 100000 \
  > "$OUT/similarity.log" 2>&1
run_step similarity-torch 120 python3 bench/reference/torch_topk.py --nq 100000 --nc 100000 >> "$OUT/similarity.log" 2>&1
cat "$OUT/similarity.log"

step "7. summary"
run_step compare 60 python3 bench/reference/compare.py --work "$WORK" --json "$OUT/device-check.json" \
  --card "${CARD:-unknown}" --tests "$TESTS"

echo
if [ ${#failures[@]} -eq 0 ]; then
  echo "device-check: all steps passed"
  return 0
fi
echo "device-check: FAILED steps: ${failures[*]}"
return 1
}

main 2>&1 | tee "$OUT/device-check.log"
exit "${PIPESTATUS[0]}"
