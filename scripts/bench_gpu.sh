#!/usr/bin/env bash
# The GPU measurement of notebooks/appendix_gpu_and_checkpoints.ipynb, in one go on one CUDA machine:
#   bash scripts/bench_gpu.sh [OUT_DIR]          # default OUT_DIR: bench-gpu
# 1. compiles every (model, batch) of `python -m utils.scale.bench` at once, in parallel processes, untimed: this only
#    fills torch.compile's on-disk cache, so that step 2 does not wait a minute or so per model for the compiler;
# 2. times each (model, batch) in a process of its own (plain, fast, graph), in the order of the reference figures,
#    appending its results to OUT_DIR/bench.jsonl and its output to OUT_DIR/log.txt;
# 3. trains pix2pix's default CURVE_STEPS steps along the three paths and prints the loss curves side by side
#    (OUT_DIR/curves.json);
# 4. as time allows: the graph path without torch.compile (what the whole-step graphs give on their own).
# Each process has a time limit (COMPILE_LIMIT_S, BENCH_LIMIT_S, CURVES_LIMIT_S) and nothing starts after
# DEADLINE_S, so a hang costs only its own figures. BENCH_ARGS: more options for every run (e.g.
# "--device cpu --size 32 --width 8" to try the script on a CPU); CONFIGS: the model:batch pairs to time.
set -u
out=${1:-bench-gpu}
mkdir -p "$out"
log="$out/log.txt"
export PYTHONUNBUFFERED=1
start=$(date +%s)
left() { echo $(( ${DEADLINE_S:-480} - ($(date +%s) - start) )); }
{
  date -u; command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())"
} 2>&1 | tee -a "$log"
configs=${CONFIGS:-"pix2pix:1 cyclegan:1 pix2pix:16 cyclegan:8 pix2pix:64 faststyle:4 faststyle:16"}
bench() {  # bench LIMIT_S MODEL:BATCH [utils.scale.bench options]: one process, its results appended to bench.jsonl
  local limit=$1 c=$2 t=$(date +%s); shift 2
  [ "$(left)" -gt 20 ] || { echo "   $c: skipped (deadline)" | tee -a "$log"; return; }
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  timeout "$limit" python3 -m utils.scale.bench ${BENCH_ARGS:-} --models "${c%:*}" --batches "${c#*:}" \
    --steps "${STEPS:-30}" --warmup "${WARMUP:-5}" --keep-going --json "$out/one.json" "$@" >> "$log" 2>&1
  echo "   $c $*: exit $? in $(( $(date +%s) - t )) s" | tee -a "$log"
  [ -f "$out/one.json" ] && python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))" \
    "$out/one.json" >> "$out/bench.jsonl"
  rm -f "$out/one.json"
}
echo "== 1. compile all in parallel (untimed, limit ${COMPILE_LIMIT_S:-200} s)" | tee -a "$log"
for c in $configs; do
  timeout "${COMPILE_LIMIT_S:-200}" python3 -m utils.scale.bench ${BENCH_ARGS:-} --models "${c%:*}" --batches "${c#*:}" \
    --paths fast --steps 1 --warmup 2 > "$out/compile-${c%:*}-${c#*:}.txt" 2>&1 &
done
wait
for c in $configs; do echo "$c: $(grep -E 'img/s|FAILED|Error' "$out/compile-${c%:*}-${c#*:}.txt" | tail -n 1 | cut -c1-200)"; done | tee -a "$log"
cat "$out"/compile-*.txt >> "$log"; rm -f "$out"/compile-*.txt
echo "   ($(( $(date +%s) - start )) s so far)" | tee -a "$log"
echo "== 2. timed, one process per model and batch (limit ${BENCH_LIMIT_S:-90} s each)" | tee -a "$log"
for c in $configs; do bench "${BENCH_LIMIT_S:-90}" "$c"; done
echo "== 3. loss curves (limit ${CURVES_LIMIT_S:-100} s)" | tee -a "$log"
if [ "$(left)" -gt 30 ]; then
  timeout "${CURVES_LIMIT_S:-100}" python3 -m utils.scale.bench ${BENCH_ARGS:-} --curves "${CURVE_STEPS:-300}" --batches 16 \
    --json "$out/curves.json" >> "$log" 2>&1
  echo "   exit $?" | tee -a "$log"; sed -n '/^loss curves/,$p' "$log" | tail -n 30
fi
echo "== 4. whole-step graphs without torch.compile" | tee -a "$log"
if [[ "${BENCH_ARGS:-}" != *"--device cpu"* ]] && python3 -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
  for c in $configs; do bench 40 "$c" --paths graph --compile off; done
else
  echo "   skipped: no CUDA GPU" | tee -a "$log"
fi
echo "== done in $(( $(date +%s) - start )) s" | tee -a "$log"
python3 - "$out/bench.jsonl" <<'PY' 2>&1 | tee -a "$log"
import json, sys
from utils.scale import bench
runs = [json.loads(line) for line in open(sys.argv[1])]
if runs:
    print(runs[0]["device"], "torch", runs[0]["torch"])
    print(bench.table([bench.Result(**r) for run in runs for r in run["results"]]))
PY
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=memory.used,clocks.sm --format=csv 2>&1 | tee -a "$log"
exit 0
