#!/usr/bin/env bash
# ==============================================================================================
#  NOT YET RUN ON A GPU (issues #6, #17). Written on a machine without one; the dry run below is
#  what has been exercised. The first session with an H100/H200 runs it and reads the JSON.
# ==============================================================================================
#
# The one script that proves the CUDA side on a machine with an NVIDIA GPU (DESIGN.md, "GPU
# checks"). It builds nothing: bench/prepare-device.sh built (sm_90) and packed everything into
# the git-ignored .devtools/ beforehand. Run it with the device tool:
#     run(command: "bash bench/device-check.sh", carry: [".devtools"], timeout_s: 480)
#
# One global deadline (SBERT_DEVICE_DEADLINE_S, default 420 s, well inside the tool's 600 s per
# command): each step runs under `timeout` for min(its own limit, the time left), a step is
# skipped when less than its minimum is left, and $OUT/device-check.json is rewritten after every
# step — a killed or cut-short run still leaves what it found. A failing step never stops the
# next; steps that need something that failed (Node, the models) are skipped and say why.
# Steps, most valuable first:
#   unpack         .devtools/node.xz → .devtools/bin/node, .devtools/payload.tar.xz → build/,
#                  dist/, node_modules/ (xz, or Python's lzma without it), inside the working tree
#   card           nvidia-smi (under timeout) → $OUT/nvidia-smi.txt
#   cuda-kernels   build/tests/cuda_ops_test then build/tests/cuda_engine_test, no Node: every
#                  CUDA kernel vs its CPU kernel, the engine vs the CPU engine →
#                  $OUT/cuda-kernels.log (both full logs). Rerun one section:
#                  build/tests/cuda_ops_test --only attention (also under compute-sanitizer;
#                  --list names each binary's sections); SBERT_DEVICE_KERNEL_ARGS passes extra
#                  arguments to both, an --only list going to the binary that has each section.
#   node           node --version, buildInfo(), cudaDevices() — every later Node step needs it
#   gpu-encoder, gpu-similarity, gpu-families
#                  test/gpu/encoder.test.js, test/gpu/similarity.test.js,
#                  test/gpu/families.test.js (RoBERTa/XLM-R, MPNet, DistilBERT, BERT + Unigram,
#                  cross-encoders vs PyTorch and the CPU engine), each in its own Node
#                  process (a sticky CUDA error stays in its file) → $OUT/gpu-tests.log.
#                  (test/gpu/cuda.test.js only reruns the two: covered by cuda-kernels.)
#   models         random-weight MiniLM-L6 / BERT-base folders (tools/reference/make_models.py)
#   ours           bench/encode-throughput.js: 10,000 STSb sentences, fp16 and bf16
#   st             bench/peers/st_encode.py: sentence-transformers fp32 (the reference), fp16
#                  timings
#   compare        bench/peers/compare.py: FAILS when ours (fp16/bf16) vs ST fp32 has any
#                  sentence below cosine 0.999; the table: sentences/s ours vs ST fp16
#   similarity     bench/similarity.js --device cuda: 100k × 100k top-10; FAILS when top-10
#                  agreement with the CPU on 256 sampled queries is below 0.99
#   torch-topk     the peer: torch fp16 matmul + topk, same shape
#   kernel-bench   build/bench/cuda_kernels_bench (timings at BERT-base shapes, never asserted)
# Output in $OUT (the device tool's folder; /tmp/sbert-device-check otherwise), 5 files (the tool
# returns at most 8): device-check.json (the summary: every step's status, seconds and limit,
# the kernel and test totals, the compare and similarity results), device-check.log
# (everything), cuda-kernels.log, gpu-tests.log, nvidia-smi.txt. Exit 0 only when every step
# passed.
#
# Environment: SBERT_DEVICE_DEADLINE_S (420), SBERT_DEVICE_STEPS (comma list: run only these,
# e.g. "unpack,cuda-kernels" for a rerun), SBERT_DEVICE_MODELS (minilm-l6,bert-base),
# SBERT_DEVICE_UNPACK=python (force the lzma fallback), PYTHON (python3).
# Dry run, here, without a GPU: SBERT_DEVICE_DRY_RUN=1 bash bench/device-check.sh — the same
# steps, in a copy of what would travel (/tmp/sbert-device-dry-tree); the GPU ones fail fast;
# models default to minilm-l6 and PYTHON to /usr/bin/python3. SBERT_DEVICE_DRY_HANG=STEP makes
# that step hang (dry run only), to show it killed at its limit and the run going on.
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=${SBERT_DEVICE_DRY_RUN:-}
if [ -n "$DRY" ] && [ -z "${SBERT_DEVICE_DRY_TREE:-}" ]; then
  # What the device tool would send (tracked + untracked-not-ignored files, .devtools) copied to
  # a fresh folder, and the run happens there: no build/, dist/ or node_modules/ from here, and
  # unpacking writes nothing into this checkout.
  tree=/tmp/sbert-device-dry-tree
  rm -rf "$tree" && mkdir -p "$tree" || exit 1
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -xf - -C "$tree" || exit 1
  [ -d .devtools ] && cp -a .devtools "$tree/"
  echo "dry run: the travelling tree copied to $tree; running there"
  SBERT_DEVICE_DRY_TREE=1 exec bash "$tree/bench/device-check.sh" "$@"
fi
ROOT=$PWD
if [ -n "$DRY" ]; then
  OUT="${OUT:-/tmp/sbert-device-check-dry}"
  [ -x /usr/bin/python3 ] && PYTHON="${PYTHON:-/usr/bin/python3}"
  MODELS_WANTED="${SBERT_DEVICE_MODELS:-minilm-l6}"
else
  OUT="${OUT:-/tmp/sbert-device-check}"
  MODELS_WANTED="${SBERT_DEVICE_MODELS:-minilm-l6,bert-base}"
fi
PYTHON="${PYTHON:-python3}"
WORK=/tmp/sbert-device-work
DEVTOOLS="$ROOT/.devtools"
export OUT PYTHON MODELS_WANTED
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PATH="$DEVTOOLS/bin:$PATH"

# ---- step bodies: `bash bench/device-check.sh --step NAME` runs one (under timeout) -----------
step_unpack() {
  local mode=xz
  if [ "${SBERT_DEVICE_UNPACK:-}" = python ] || ! command -v xz > /dev/null; then mode=python; fi
  for f in node.xz payload.tar.xz; do
    [ -s "$DEVTOOLS/$f" ] || { echo "missing .devtools/$f: run bench/prepare-device.sh first, carry .devtools"; return 1; }
  done
  mkdir -p "$DEVTOOLS/bin"
  echo "unpacking with $mode into $ROOT"
  if [ "$mode" = xz ]; then
    xz -dc "$DEVTOOLS/node.xz" > "$DEVTOOLS/bin/node.partial" || return 1
    xz -dc "$DEVTOOLS/payload.tar.xz" | tar -xf - -C "$ROOT" || return 1
  else
    "$PYTHON" - "$DEVTOOLS" "$ROOT" <<'EOF' || return 1
import lzma, shutil, sys, tarfile
devtools, root = sys.argv[1], sys.argv[2]
with lzma.open(f'{devtools}/node.xz') as src, open(f'{devtools}/bin/node.partial', 'wb') as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
with tarfile.open(f'{devtools}/payload.tar.xz', 'r:xz') as tar:
    try:
        tar.extractall(root, filter='tar')  # keeps the executable bits
    except TypeError:  # Python without extraction filters
        tar.extractall(root)
EOF
  fi
  chmod +x "$DEVTOOLS/bin/node.partial" && mv "$DEVTOOLS/bin/node.partial" "$DEVTOOLS/bin/node"
  ls -la build/Release/sbert_native.node build/tests/cuda_ops_test build/tests/cuda_engine_test \
    build/bench/cuda_kernels_bench "$DEVTOOLS/bin/node" || return 1
  echo "dist: $(find dist -name '*.js' | wc -l) files; node_modules: $(ls node_modules | tr '\n' ' ')"
}

step_card() {
  timeout 20 nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
  local rc=$?
  cat "$OUT/nvidia-smi.txt"
  return $rc
}

# A CUDA test or bench run that found no device (or a build without CUDA) proves nothing: a
# failure.
run_cuda_binary() {  # run_cuda_binary BINARY LOG ARGS... (appends to LOG)
  local bin=$1 log=$2
  shift 2
  local part="$WORK/$(basename "$bin").log"
  "$bin" "$@" > "$part" 2>&1
  local rc=$?
  cat "$part" >> "$log"
  if grep -q 'skipped: no CUDA device' "$part"; then
    echo "$(basename "$bin") found no CUDA device: $(grep 'skipped' "$part")"
    return 1
  fi
  return $rc
}

# The arguments for one CUDA test binary: ARGS with an --only list cut to the sections BINARY
# has (its --list); prints nothing and returns 1 when --only names none of them.
kernel_args_for() {  # kernel_args_for BINARY ARGS...
  local bin=$1
  shift
  local out=() sections
  sections=$("$bin" --list 2> /dev/null | tr 'A-Z' 'a-z')
  while [ $# -gt 0 ]; do
    if [ "$1" = --only ] && [ $# -ge 2 ]; then
      local keep="" name
      for name in ${2//,/ }; do
        if printf '%s\n' $sections | grep -qx "$(printf '%s' "$name" | tr 'A-Z' 'a-z')"; then keep="${keep:+$keep,}$name"; fi
      done
      [ -n "$keep" ] || return 1
      out+=(--only "$keep")
      shift 2
    else
      out+=("$1")
      shift
    fi
  done
  printf '%s\n' "${out[@]}"
}

step_cuda_kernels() {
  : > "$OUT/cuda-kernels.log"
  local rc=0 ran=0 bin args argv
  for bin in build/tests/cuda_ops_test build/tests/cuda_engine_test; do
    # shellcheck disable=SC2086
    if ! args=$(kernel_args_for "$bin" ${SBERT_DEVICE_KERNEL_ARGS:-}); then
      echo "# $(basename "$bin"): none of the --only sections is here" | tee -a "$OUT/cuda-kernels.log"
      continue
    fi
    ran=1
    mapfile -t argv <<< "$args"
    [ -n "$args" ] || argv=()
    run_cuda_binary "$bin" "$OUT/cuda-kernels.log" "${argv[@]}" || rc=1
  done
  [ $ran = 1 ] || { echo "SBERT_DEVICE_KERNEL_ARGS selects no section of either binary"; rc=1; }
  # The full logs are in cuda-kernels.log; here the device lines, sections, failures and totals.
  grep -E '^(# |FAIL|[0-9]+ passed|cuda_)' "$OUT/cuda-kernels.log" | tail -n 80
  return $rc
}

step_node() {
  node --version || return 1
  node -e "const s = require('./dist'); console.log('buildInfo', JSON.stringify(s.buildInfo())); const d = s.cudaDevices(); console.log('cudaDevices', JSON.stringify(d)); if (!d.length) { console.log('no CUDA device visible to the addon'); process.exit(1); }"
}

step_gpu_test() {  # step_gpu_test FILE-PATTERN
  local log="$WORK/gpu-test.out"
  node test/run.js --gpu-only --file-timeout-s 600 "$1" > "$log" 2>&1
  local rc=$?
  { echo "### node test/run.js --gpu-only $1 (exit $rc)"; cat "$log"; } >> "$OUT/gpu-tests.log"
  grep -E '^(# test/gpu|  ✘|   FAIL|[0-9]+ passed|test/gpu|Total:|Passed:)' "$log" | tail -n 40
  return $rc
}
step_gpu_encoder() { step_gpu_test 'gpu/encoder\.test\.js$'; }
step_gpu_similarity() { step_gpu_test 'gpu/similarity\.test\.js$'; }
step_gpu_families() { step_gpu_test 'gpu/families\.test\.js$'; }

model_dirs() {
  local out="" m
  for m in ${MODELS_WANTED//,/ }; do out="${out:+$out,}$WORK/models/$m"; done
  echo "$out"
}

step_models() {
  "$PYTHON" tools/reference/make_models.py --out "$WORK/models" --models "$MODELS_WANTED"
}

step_ours() {
  node bench/encode-throughput.js --models "$(model_dirs)" --sentences "$DEVTOOLS/stsb-sentences.txt" \
    --out "$WORK" --precisions fp16,bf16 --batch-tokens 16384,65536 --reps 2
}

step_st() {
  "$PYTHON" bench/peers/st_encode.py --models "$(model_dirs)" --sentences "$DEVTOOLS/stsb-sentences.txt" \
    --out "$WORK" --batch-sizes 32,128,512 --reps 2
}

step_compare() {
  "$PYTHON" bench/peers/compare.py --work "$WORK" --json "$WORK/compare.json" --min-cosine 0.999 \
    --card "$(head -c 200 "$WORK/card" 2> /dev/null || echo unknown)" \
    --tests "$(cat "$WORK/tests-status" 2> /dev/null || echo unknown)" | tee "$WORK/compare.out"
}

step_similarity() {
  node bench/similarity.js --only search --device cuda --nq 100000 --nc 100000 --k 10 \
    --check-queries 256 --min-agreement 0.99 | tee "$WORK/similarity.out"
}

step_torch_topk() {
  "$PYTHON" bench/peers/torch_topk.py --nq 100000 --nc 100000 | tee "$WORK/torch-topk.out"
}

step_kernel_bench() {
  : > "$WORK/kernel-bench.log"
  run_cuda_binary build/bench/cuda_kernels_bench "$WORK/kernel-bench.log"
  local rc=$?
  cat "$WORK/kernel-bench.log"
  return $rc
}

if [ "${1:-}" = "--step" ]; then
  fn="step_${2//-/_}"
  if [ -n "$DRY" ] && [ "${SBERT_DEVICE_DRY_HANG:-}" = "$2" ]; then
    echo "dry run: step $2 hangs (SBERT_DEVICE_DRY_HANG), as a stuck GPU test would"
    sleep 100000
  fi
  shift 2
  "$fn" "$@"
  exit $?
fi

# ---- the runner: deadline, records, the JSON summary ----------------------------------------
DEADLINE_S=${SBERT_DEVICE_DEADLINE_S:-420}
START=$(date +%s)
SELECTED=",${SBERT_DEVICE_STEPS:-},"
RECORDS=()       # one JSON object per step
CURRENT=""       # the step running now (in the summary when a signal cuts it short)
FAILED=()        # names of steps that did not pass (failed, timed out or skipped)
mkdir -p "$OUT" "$WORK"

json_str() {  # a JSON string literal of $1 (no subprocess: this runs often)
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/ }
  s=${s//[$'\001'-$'\037']/}
  printf '"%s"' "$s"
}
json_file_or_null() {  # the JSON in file $1 (one object), or null when absent or not one line/object
  if [ -s "$1" ] && head -c 1 "$1" | grep -q '{'; then cat "$1"; else printf null; fi
}
left_s() { echo $((START + DEADLINE_S - $(date +%s))); }

write_summary() {  # write_summary FINISHED(true|false)
  local steps="" r
  for r in "${RECORDS[@]}"; do steps="${steps:+$steps,}$r"; done
  local sim=null
  if [ -s "$WORK/similarity.out" ]; then
    grep '^{' "$WORK/similarity.out" | tail -1 > "$WORK/similarity.json"
    sim=$(json_file_or_null "$WORK/similarity.json")
  fi
  local peer=null
  if [ -s "$WORK/torch-topk.out" ]; then
    grep '^{' "$WORK/torch-topk.out" | tail -1 > "$WORK/torch-topk.json"
    peer=$(json_file_or_null "$WORK/torch-topk.json")
  fi
  local kernels tests
  kernels=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/cuda-kernels.log" 2> /dev/null | paste -sd ';' -)
  tests=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/gpu-tests.log" 2> /dev/null | paste -sd ';' -)
  {
    printf '{"script":"bench/device-check.sh","dry_run":%s,"finished":%s,' "$([ -n "$DRY" ] && echo true || echo false)" "$1"
    printf '"deadline_s":%d,"elapsed_s":%d,"left_s":%d,' "$DEADLINE_S" "$(($(date +%s) - START))" "$(left_s)"
    local failed="" f
    for f in "${FAILED[@]}"; do failed="${failed:+$failed,}$(json_str "$f")"; done
    printf '"card":%s,"not_passed":[%s],' "$(json_str "$(head -c 200 "$WORK/card" 2> /dev/null)")" "$failed"
    printf '"cuda_kernels":%s,"gpu_tests":%s,' "$(json_str "$kernels")" "$(json_str "$tests")"
    printf '"running":%s,"steps":[%s],' "$([ -n "$CURRENT" ] && json_str "$CURRENT" || echo null)" "$steps"
    printf '"compare":%s,"similarity":%s,"torch_topk":%s}\n' "$(json_file_or_null "$WORK/compare.json")" "$sim" "$peer"
  } > "$OUT/device-check.json.partial" && mv "$OUT/device-check.json.partial" "$OUT/device-check.json"
}

record() {  # record NAME STATUS RC SECONDS LIMIT NOTE
  RECORDS+=("{\"name\":$(json_str "$1"),\"status\":\"$2\",\"rc\":$3,\"seconds\":$4,\"limit_s\":$5,\"note\":$(json_str "$6")}")
  [ "$2" = pass ] || FAILED+=("$1")
  # A skip changes nothing on the GPU side: the next step's or the final summary carries it.
  [ "$2" = skipped ] || write_summary false
}

skip() {  # skip NAME WHY
  echo
  echo "=== $1: SKIPPED ($2)"
  record "$1" skipped -1 0 0 "$2"
}

# run_step NAME LIMIT_S MIN_S: runs the step body under timeout, min(LIMIT_S, time left).
run_step() {
  local name=$1 limit=$2 need=$3
  if [ "$SELECTED" != ",," ] && [[ "$SELECTED" != *",$name,"* ]]; then
    skip "$name" "not in SBERT_DEVICE_STEPS"
    return 1
  fi
  local left
  left=$(left_s)
  if [ "$left" -lt "$need" ]; then
    skip "$name" "deadline: ${left}s left, the step needs at least ${need}s"
    return 1
  fi
  local t=$((limit < left ? limit : left))
  echo
  echo "=== $name (limit ${t}s of ${limit}s; ${left}s left before the ${DEADLINE_S}s deadline; $(date +%T))"
  local t0 t1 rc status note=""
  t0=$(date +%s%N)
  rm -f "$WORK/step.pid" "$WORK/step.rc"
  CURRENT=$name
  # In the background, then `wait`: a TERM for this script then runs on_signal at once (bash
  # holds traps while a foreground command runs). timeout leads its own process group, whose id
  # (its pid: `exec` keeps it) step.pid records, so on_signal can end the whole step.
  (
    bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$WORK/step.pid" \
      timeout -k 5 "$t" bash "$ROOT/bench/device-check.sh" --step "$name" 2>&1
    echo $? > "$WORK/step.rc"
  ) | tee "$WORK/step.out" &
  wait $!
  rc=$(cat "$WORK/step.rc" 2> /dev/null || echo 1)
  CURRENT=""
  t1=$(date +%s%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  if [ $rc -eq 0 ]; then
    status=pass
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    status=timeout
    note="killed after ${t}s"
  else
    status=fail
    note=$(grep -v '^[[:space:]]*$' "$WORK/step.out" | grep -v '^    at ' | tail -n 1 | cut -c 1-300)
  fi
  echo "--- $name: $status (exit $rc, ${secs}s)"
  record "$name" "$status" "$rc" "$secs" "$t" "$note"
  [ $rc -eq 0 ]
}

# Killed from outside (the device tool's limit, ^C): end the running step's process group too,
# and leave the summary of what finished.
on_signal() {
  local p
  p=$(cat "$WORK/step.pid" 2> /dev/null)
  [ -n "$p" ] && kill -TERM -- "-$p" 2> /dev/null
  trap '' PIPE  # tee may be gone already
  write_summary false
  echo "device-check: stopped by a signal; device-check.json holds the steps that finished" 2> /dev/null
  exit 143
}

main() {
  trap on_signal TERM INT HUP
  echo "device-check: deadline ${DEADLINE_S}s, OUT=$OUT, started $(date -u +%FT%TZ)${DRY:+ — DRY RUN (no GPU expected)}"
  : > "$OUT/gpu-tests.log"
  rm -f "$WORK"/compare.json "$WORK"/compare.out "$WORK"/*.out "$WORK"/card "$WORK"/tests-status "$WORK"/*.npy \
    "$WORK"/ours-results.json "$WORK"/st-results.json
  write_summary false

  local unpacked=0 node_ok=0 models_ok=0
  run_step unpack 90 5 && unpacked=1
  run_step card 25 5
  timeout 10 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2> /dev/null | head -1 > "$WORK/card"
  if [ $unpacked = 1 ]; then run_step cuda-kernels 200 30; else skip cuda-kernels "unpack failed"; fi

  # Node steps need a Node that runs here (glibc, CPU): checked once, before the first of them.
  if [ $unpacked = 1 ] && timeout 10 node --version > /dev/null 2>&1; then node_ok=1; fi
  if [ $node_ok = 1 ]; then run_step node 30 5; else skip node "node --version failed (or unpack did)"; fi
  for s in gpu-encoder gpu-similarity gpu-families; do
    if [ $node_ok = 1 ]; then run_step "$s" 150 20; else skip "$s" "node unusable"; fi
  done
  grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/gpu-tests.log" | paste -sd ';' - > "$WORK/tests-status"

  run_step models 90 15 && models_ok=1
  if [ $node_ok = 1 ] && [ $models_ok = 1 ]; then run_step ours 150 30; else skip ours "needs node and the models"; fi
  if [ $models_ok = 1 ]; then run_step st 180 40; else skip st "needs the models"; fi
  run_step compare 30 5
  if [ $node_ok = 1 ]; then run_step similarity 90 20; else skip similarity "node unusable"; fi
  run_step torch-topk 60 20
  if [ $unpacked = 1 ]; then run_step kernel-bench 60 15; else skip kernel-bench "unpack failed"; fi

  write_summary true
  echo
  echo "=== summary ($(($(date +%s) - START))s of the ${DEADLINE_S}s deadline)"
  local r
  for r in "${RECORDS[@]}"; do
    printf '%s\n' "$r" | sed -E 's/^\{"name":"([^"]*)","status":"([^"]*)","rc":(-?[0-9]+),"seconds":([0-9.]+),"limit_s":([0-9]+),"note":"(.*)"\}$/  \1: \2 (exit \3, \4 s of \5 s) \6/'
  done
  [ -s "$WORK/compare.json" ] && sed -n '/^model/,$p' "$WORK/compare.out" 2> /dev/null
  echo "files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
  if [ ${#FAILED[@]} -eq 0 ]; then
    echo "device-check: all steps passed"
    return 0
  fi
  echo "device-check: NOT all steps passed: ${FAILED[*]}"
  return 1
}

main 2>&1 | tee "$OUT/device-check.log"
exit "${PIPESTATUS[0]}"
