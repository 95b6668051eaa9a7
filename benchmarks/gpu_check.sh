#!/usr/bin/env bash
# The prepared GPU check (one call on a lent GPU): CUDA smoke of every preset through the offline
# smoke table, then benchmarks/gpu.py. Each step gets what is left of BUDGET seconds (default 400).
#   bash benchmarks/gpu_check.sh [BUDGET] [TABLE_EPOCHS]     logs → $OUT (default /tmp/gpu-check)
set -u
BUDGET=${1:-400}; TABLE_EPOCHS=${2:-20}
OUT=${OUT:-/tmp/gpu-check}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 LTLAB_OFFLINE=1 LTLAB_DATA=$(mktemp -d)
PY=${PY:-python3}
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
step() {  # step NAME CAP command...
  local name=$1 cap=$2; shift 2
  local t=$(left); (( t > cap )) && t=$cap
  if (( t < 15 )); then echo "=== $name skipped: no time left" | tee -a "$OUT/summary.txt"; return; fi
  echo "=== $name (limit ${t}s)" | tee -a "$OUT/summary.txt"
  local s=$(date +%s)
  timeout "$t" "$@" > "$OUT/$name.log" 2>&1; local rc=$?
  echo "=== $name rc=$rc in $(( $(date +%s) - s ))s" | tee -a "$OUT/summary.txt"
  tail -n 40 "$OUT/$name.log"
}
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv | tee "$OUT/summary.txt"
PRESETS=$($PY -c "from ltcore.methods import PRESETS; print(','.join(n for n in PRESETS.names() if n != 'transfer'))")
step smoke 110 $PY -m ltcore reproduce cifar10-lt --dataset synthetic_cifar --seeds 0 --epochs 2 --ratios 100 \
  --methods "$PRESETS" --device cuda --out "$OUT"
step throughput 80 $PY benchmarks/gpu.py --parts throughput,sync
step run 150 $PY benchmarks/gpu.py --parts run --run-epochs 200
step table 150 $PY benchmarks/gpu.py --parts table --table-epochs "$TABLE_EPOCHS"
step compile 120 $PY benchmarks/gpu.py --parts compile
grep -h "images/s\|wall\|synchronising\|GPU:\|FAILED\|Error\|error" "$OUT"/*.log | head -60
