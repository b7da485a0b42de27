#!/usr/bin/env bash
# One GPU validation run, under 8 minutes on one GPU: prints the device, runs the gpu-marked tests, the CUDA
# benchmarks (sampler rounds and real-model throughput, batch sizes up to the memory limit, with the speed-up
# over the 2-core CPU), and the smoke preset of every Monte-Carlo driver on CUDA, checked against the shipped
# CPU rows within their Monte-Carlo error. Writes OUT_DIR/gpu_check.json (and the raw outputs beside it).
# Without a GPU it says so and exits 0.
#
# Usage: benchmarks/gpu_check.sh OUT_DIR        (PYTHON=python3 by default; mdtheory need not be installed)
set -uo pipefail
OUT=${1:?usage: benchmarks/gpu_check.sh OUT_DIR}
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "gpu_check: no CUDA device on this machine (torch.cuda.is_available() is False); nothing to check."
    exit 0
fi
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
exec "$PYTHON" benchmarks/gpu_check.py "$OUT"
