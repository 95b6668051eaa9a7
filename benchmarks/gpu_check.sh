#!/usr/bin/env bash
# The prepared GPU check: ONE command on a lent GPU, within BUDGET seconds (default 520).
#   bash benchmarks/gpu_check.sh [BUDGET] [gpu|cpu]
# `cpu` is a dry run of the same steps on a CPU with tiny sizes (checks this script's logic here).
# Env: STEPS (default "throughput compile run multi table") picks steps; TABLE_ARGS replaces the
# table's --seeds/--workers/... options.
# Steps (each with its own time limit; a failed or cut-off step never stops the next):
#   1 env         nvidia-smi, versions, MPS binary                               (~15 s)
#   2 throughput  conventional loop vs ltcore eager/graph × fp32/bf16, sync calls  (cap 60 s)
#   3 compile     torch.compile modes under the CUDA graph: compile time, img/s   (cap 100 s)
#   4 run         one 200-epoch ρ=100 ResNet-32 ldam_drw run, fastest setting     (cap 90 s)
#   5 multi       N runs sharing the GPU: processes, processes under MPS, streams  (cap 80 s)
#   6 table       reproduce mnist1d-lt ρ=100 × 3 seeds on the CPUs (the rest, ≥ 180 s); if cut off,
#                 the table of the runs that finished (reproduce --no-train)
# Files in $OUT (default /tmp/gpu-check): summary.txt (key lines), steps.log (every step's full
# output), results.json (every figure), and the table's .md/.csv. The key lines are printed last.
set -u
BUDGET=${1:-520}; MODE=${2:-gpu}
OUT=${OUT:-/tmp/gpu-check}; mkdir -p "$OUT"
PY=${PY:-python3}
WORK=$(mktemp -d /tmp/ltlab-gpu-check.XXXXXX)
export PYTHONUNBUFFERED=1 LTLAB_OFFLINE=1 LTLAB_DATA="$WORK/data" TORCHINDUCTOR_CACHE_DIR="$WORK/inductor"
SUMMARY="$OUT/summary.txt"; LOG="$OUT/steps.log"; RESULTS="$OUT/results.json"
: > "$SUMMARY"; : > "$LOG"; rm -f "$RESULTS"
TABLE_RESERVE=${TABLE_RESERVE:-180}; X=1
if [[ $MODE == cpu ]]; then   # X: every step's limit ×X (a loaded 2-core machine is far slower than the GPU)
  DEV=(--device cpu --tiny); TABLE_RESERVE=${TABLE_RESERVE_CPU:-60}; X=${X_CPU:-5}
  export LTLAB_COMPILE_BACKEND=${LTLAB_COMPILE_BACKEND:-aot_eager}   # C++ builds take minutes on 2 cores
  TABLE=(--epochs 1 --methods ce,cb_ce --seeds 0 --workers 2)
else
  DEV=(--device cuda)
  TABLE=(--seeds 0,1,2 --workers 15)
fi
[[ -n ${TABLE_ARGS:-} ]] && read -r -a TABLE <<< "$TABLE_ARGS"
STEPS=" ${STEPS:-throughput compile run multi table} "
want() { [[ $STEPS == *" $1 "* ]]; }
GPU=("$PY" benchmarks/gpu.py "${DEV[@]}" --results "$RESULTS")
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
note() { echo "$*" | tee -a "$SUMMARY" >> "$LOG"; echo "$*"; }

# step NAME CAP RESERVE command...: runs with limit min(CAP, left − RESERVE); output → stdout + steps.log
step() {
  local name=$1 cap=$2 reserve=$3; shift 3
  want "$name" || return 0
  local t=$(( $(left) - reserve )); (( t > cap )) && t=$cap
  if (( t < 10 )); then note "=== $name skipped: ${t}s left for it"; return; fi
  note "=== $name (limit ${t}s, $(left)s of the budget left)"
  local s=$(date +%s)
  timeout -k 5 "$t" "$@" --budget $(( t - 3 )) 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  note "=== $name rc=$rc in $(( $(date +%s) - s ))s$([[ $rc == 124 || $rc == 137 ]] && echo ' (time limit)')"
}

# 1 env
note "=== env ($(date -u +%H:%M:%S) UTC, budget ${BUDGET}s, mode $MODE)"
if command -v nvidia-smi > /dev/null; then
  note "nvidia-smi: $(nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,compute_mode --format=csv,noheader 2>&1 | head -3)"
else
  note "nvidia-smi: not found"
fi
timeout 40 "${GPU[@]}" --parts env 2>&1 | tee -a "$LOG" | grep "^env:" | tee -a "$SUMMARY"

# 2-5 the GPU measurements (gpu.py parts), each leaving TABLE_RESERVE seconds for the table
step throughput $((60 * X)) "$TABLE_RESERVE" "${GPU[@]}" --parts throughput,sync
step compile $((100 * X)) "$TABLE_RESERVE" "${GPU[@]}" --parts compile --compile-cap $((75 * X))
step run $((90 * X)) "$TABLE_RESERVE" "${GPU[@]}" --parts run
step multi $((80 * X)) "$TABLE_RESERVE" "${GPU[@]}" --parts multi --mps-dir "$WORK/mps" --multi-cap $((40 * X))
if [[ -d $WORK/mps/pipe ]] && command -v nvidia-cuda-mps-control > /dev/null; then  # never leave MPS running
  echo quit | CUDA_MPS_PIPE_DIRECTORY="$WORK/mps/pipe" timeout 15 nvidia-cuda-mps-control > /dev/null 2>&1
fi

# 6 the MNIST-1D-LT table on the CPUs: Ctrl-C (SIGINT) at the limit stops it cleanly; what finished is in
# the store, and `--no-train` then prints and writes the table of those runs.
T=$(( $(left) - 40 ))   # kept back: ≤ 15 s to stop after Ctrl-C, ≤ 20 s for --no-train, the summary
if ! want table; then
  :
elif (( T < 20 )); then
  note "=== table skipped: ${T}s left"
else
  note "=== table (limit ${T}s)"
  s=$(date +%s)
  # output to a file, not our stdout: a worker outliving its parent must not hold the pipe open
  timeout -s INT -k 15 "$T" "$PY" -m ltcore reproduce mnist1d-lt --ratios 100 "${TABLE[@]}" --device cpu \
    --out "$OUT" > "$WORK/table.log" 2>&1
  rc=$?
  cat "$WORK/table.log" >> "$LOG"; grep -v "^\[" "$WORK/table.log" | head -5; grep "^\[" "$WORK/table.log" | tail -n 3
  note "=== table rc=$rc in $(( $(date +%s) - s ))s$([[ $rc == 124 || $rc == 137 ]] && echo ' (time limit)')"
  if [[ $rc != 0 ]]; then
    timeout 20 "$PY" -m ltcore reproduce mnist1d-lt --ratios 100 "${TABLE[@]}" --device cpu --out "$OUT" \
      --no-train > "$WORK/table2.log" 2>&1
    note "=== table of the finished runs (--no-train) rc=$?"
    cat "$WORK/table2.log" >> "$LOG"
  fi
fi

echo
echo "================ SUMMARY (also in $SUMMARY; every figure in $RESULTS) ================"
grep -h -E "^nvidia-smi|^env:|images/s|synchronising|compil|setting:|^  epoch|ldam_drw run|N=[0-9]|MPS|FAILED|did not finish|skipped|Error|^=== " \
  "$LOG" | cut -c1-300 | head -70 | tee -a "$SUMMARY"
for md in "$OUT"/mnist1d-lt*.md; do [[ -f $md ]] && { echo "--- $md"; cat "$md"; } | tee -a "$SUMMARY"; done
note "=== done in $(( $(date +%s) - START ))s of ${BUDGET}s"
rm -rf "$WORK"
