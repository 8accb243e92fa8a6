#!/usr/bin/env bash
# The report study's shape on one GPU, twice: the plain Trainer (fp32, its defaults, one
# training after another) and xner's fast path (its runtime, JOBS trainings at once, longest
# first). Prints each run's wall time, peak GPU memory and the speed-up, and keeps the JSON.
#
#   benchmarks/perf/gpu.sh DATA_DIR [JOBS] [PLAIN_MAX_STEPS]
#
# DATA_DIR is PAN-X in XTREME's layout (train-/dev-/test-<lang>.tsv). The model is
# xlmr-base-random: XLM-R base's exact shapes with random weights, so nothing is downloaded
# and the cost per step is the real one (its F1 means nothing). The plain run does not fit a
# 10-minute command on one GPU, so each of its trainings stops after PLAIN_MAX_STEPS steps
# (default 150) and its full time is extrapolated from the measured time per step (a lower
# bound: its per-epoch validation passes are left out). Environment overrides, used by the
# tests to run it on a CPU with tiny shapes: XNER_PERF_MODEL, XNER_PERF_STUDY,
# XNER_PERF_FAST_MAX_STEPS (cut the fast run short too), XNER_PERF_OUT (default perf-gpu/).
set -euo pipefail

data=${1:?usage: benchmarks/perf/gpu.sh DATA_DIR [JOBS] [PLAIN_MAX_STEPS]}
jobs=${2:-4}
plain_steps=${3:-150}
model=${XNER_PERF_MODEL:-xlmr-base-random}
study=${XNER_PERF_STUDY:-report}
out=${XNER_PERF_OUT:-perf-gpu}
fast_cut=()
if [ -n "${XNER_PERF_FAST_MAX_STEPS:-}" ]; then
    fast_cut=(--max-steps "$XNER_PERF_FAST_MAX_STEPS")
fi
mkdir -p "$out"
python -c "import torch; print('device:', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"

common=(suite --study "$study" --model "$model" --data "$data")
python -m xner.perf "${common[@]}" --runtime plain --jobs 1 --max-steps "$plain_steps" \
    > "$out/plain.json"
python -m xner.perf "${common[@]}" --runtime xner --jobs "$jobs" "${fast_cut[@]}" \
    > "$out/fast.json"
python -m xner.perf ratio "$out/plain.json" "$out/fast.json" | tee "$out/ratio.json"
