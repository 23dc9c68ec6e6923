#!/usr/bin/env bash
# The GPU proof in one command, for a machine with an NVIDIA GPU and a CUDA toolkit:
# install (or reuse) .venv with mmcv's CUDA ops, then tools/gpu_check.py (arguments passed on).
# The install's time (the mmcv CUDA build on a first run) is printed apart from the check's.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash tools/install.sh
if ! .venv/bin/python -c "import tensorrt" 2>/dev/null; then
    echo "[gpu-check] installing TensorRT (requirements/gpu.txt) for the tensorrt rows"
    .venv/bin/python -m pip install -q -r requirements/gpu.txt ||
        echo "[gpu-check] TensorRT did not install: its rows will say so; the rest runs"
fi
echo "[gpu-check] install: $((SECONDS - start)) s"
start=$SECONDS
status=0
.venv/bin/python tools/gpu_check.py "$@" || status=$?
echo "[gpu-check] check: $((SECONDS - start)) s"
exit $status
