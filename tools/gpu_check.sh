#!/usr/bin/env bash
# The GPU proof in one command, for a machine with an NVIDIA GPU and a CUDA toolkit:
# install (or reuse) $VENV (default .venv) with mmcv's CUDA ops, then tools/gpu_check.py
# (arguments passed on). The install's time (the mmcv CUDA build on a first run) is printed
# apart from the check's and written into its report (MMLOW_INSTALL_SECONDS).
set -euo pipefail
cd "$(dirname "$0")/.."
export VENV=${VENV:-.venv}
start=$SECONDS
bash tools/install.sh
if ! "$VENV/bin/python" -c "import tensorrt" 2>/dev/null; then
    echo "[gpu-check] installing TensorRT (requirements/gpu.txt) for the tensorrt rows"
    pip_log=$(mktemp)
    # one quick try: without a network (or NVIDIA's index, where its libraries come from) pip
    # would otherwise retry for minutes
    if ! "$VENV/bin/python" -m pip install -q --retries 1 --timeout 10 -r requirements/gpu.txt \
            -c requirements/lock.txt > "$pip_log" 2>&1; then
        tail -n 3 "$pip_log" | sed 's/^/[gpu-check]   pip: /'
        echo "[gpu-check] TensorRT did not install (pip's last lines above; it needs pypi.org and pypi.nvidia.com): the tensorrt rows will say so; the rest runs"
    fi
    rm -f "$pip_log"
fi
export MMLOW_INSTALL_SECONDS=$((SECONDS - start))
echo "[gpu-check] install: $MMLOW_INSTALL_SECONDS s"
start=$SECONDS
status=0
"$VENV/bin/python" tools/gpu_check.py "$@" || status=$?
echo "[gpu-check] check: $((SECONDS - start)) s"
exit $status
