#!/usr/bin/env bash
# Creates ./.venv with mmlow's exact stack. Idempotent: a stamp holding the hash of every input
# makes a second run with nothing changed return at once.
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is built from its sdist with the CPU ops
# (~17 min on 2 cores) unless a prebuilt wheel is found in $MMCV_WHEEL_DIR (colon-separated
# folders) or in the cache ($MMLOW_CACHE, default ~/.cache/mmlow/wheels), where a fresh build
# is stored for next time.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
CACHE=${MMLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmlow/wheels}
MMCV_WHEEL=mmcv-2.1.0-cp311-cp311-linux_x86_64.whl
STAMP=$VENV/.mmlow-install-stamp
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"

inputs_hash=$(cat requirements/*.txt pyproject.toml tools/install.sh | sha256sum | cut -c1-16)
if [[ -f $STAMP && "$(cat "$STAMP")" == "$inputs_hash" ]]; then
    echo "[install] $VENV is up to date"
    exit 0
fi

log() { echo "[install] $*"; }

if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV with $($PYTHON --version)"
    $PYTHON -m venv "$VENV"
fi

log "installing the pinned stack (torch 2.14.1 comes from local disk)"
$PIP install -r requirements/runtime.txt -r requirements/tests.txt -c requirements/lock.txt \
    2> >(grep -v "^WARNING: Location" >&2)

find_mmcv_wheel() {
    local dirs=${MMCV_WHEEL_DIR:-}:$CACHE dir
    IFS=: read -ra dirs <<< "$dirs"
    for dir in "${dirs[@]}"; do
        if [[ -n $dir && -f $dir/$MMCV_WHEEL ]]; then
            echo "$dir/$MMCV_WHEEL"
            return
        fi
    done
}

build_mmcv_wheel() {  # progress goes to stderr, the wheel's path to stdout
    local work
    work=$(mktemp -d)
    {
    log "no prebuilt $MMCV_WHEEL found: building mmcv 2.1.0 with CPU ops (about 17 min)"
    $PIP download --no-deps --no-binary :all: mmcv==2.1.0 -d "$work"
    tar xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
    # torch 2.14's headers need C++20; mmcv's setup.py asks for C++14/17
    sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$work"/mmcv-2.1.0/setup.py
    mkdir -p "$CACHE"
    (cd "$work"/mmcv-2.1.0 && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} \
        "$OLDPWD/$VENV/bin/python" -m pip wheel --no-deps --no-build-isolation -w "$work/dist" .)
    mv "$work"/dist/mmcv-2.1.0-*.whl "$CACHE/$MMCV_WHEEL"
    rm -rf "$work"
    } >&2
    echo "$CACHE/$MMCV_WHEEL"
}

if ! $VENV/bin/python -c "import mmcv.ops" 2>/dev/null; then
    wheel=$(find_mmcv_wheel)
    if [[ -z $wheel ]]; then
        wheel=$(build_mmcv_wheel)
    fi
    log "installing $wheel"
    $PIP install "$wheel" -c requirements/lock.txt 2> >(grep -v "^WARNING: Location" >&2)
fi

$PIP install --no-deps --no-build-isolation -e .
$VENV/bin/python -c "import mmlow, mmcv.ops, mmdet, mmseg, mmpretrain" 
echo "$inputs_hash" > "$STAMP"
log "done: $VENV ready"
