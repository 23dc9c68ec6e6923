#!/usr/bin/env bash
# Creates ./.venv with mmlow's exact stack. Idempotent: a stamp holding the hash of every input
# makes a second run with nothing changed return at once; a run that was interrupted (Ctrl-C,
# a lost session) leaves a marker, and the next run starts the venv afresh.
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is built from its sdist (about 17 min of 2 cores
# for the CPU ops) unless a prebuilt wheel is found in $MMCV_WHEEL_DIR (colon-separated folders)
# or in the cache ($MMLOW_CACHE, default ~/.cache/mmlow/wheels), where a fresh build is kept.
# With a GPU and a CUDA toolkit (nvcc) it builds the CUDA ops for that GPU instead; the two
# builds are cached apart ($CACHE/cpu/, $CACHE/cuda<version>-sm<arch>/). MMCV_OPS=cpu forces
# the CPU build. MAX_JOBS (default: every core) sets the compile jobs.
#
#   tools/install.sh                   install or repair .venv
#   tools/install.sh fetch-mmcv DIR    only fetch mmcv's sdist into DIR and patch it (no compile)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
CACHE=${MMLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmlow/wheels}
MMCV_VERSION=2.1.0
MMCV_WHEEL=mmcv-$MMCV_VERSION-cp311-cp311-linux_x86_64.whl
STAMP=$VENV/.mmlow-install-stamp
INCOMPLETE=$VENV/.mmlow-install-incomplete
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"

log() { echo "[install] $*"; }
fail() { echo "[install] error: $*" >&2; exit 1; }
# A command run as a named step: the first failure stops the install with what to do.
step() {
    local what=$1 hint=$2
    shift 2
    "$@" || fail "$what failed: $hint"
}
# Ctrl-C: stop here (pip's own "failed" would otherwise read like a broken step); the EXIT trap
# of a build removes its work folder, and the marker makes the next run repair what was cut off.
trap 'echo "[install] interrupted: run the install again to repair and finish it" >&2; exit 130' INT TERM
# pip without its warnings about local package folders that do not exist on this machine
quiet_pip() { $PIP "$@" 2> >(trap '' INT; grep -v "^WARNING: Location" >&2 || true); }

check_python() {
    command -v "$PYTHON" >/dev/null ||
        fail "'$PYTHON' not found: install Python 3.11, or point PYTHON at it (PYTHON=/path/to/python3.11 make demo)"
    local version
    version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ||
        fail "'$PYTHON' does not run: point PYTHON at a working Python 3.11"
    [[ $version == 3.11 ]] ||
        fail "PYTHON=$PYTHON is Python $version, but the pinned stack (torch 2.14.1, mmcv's cp311 build) needs 3.11: set PYTHON=python3.11"
}

fetch_mmcv_source() {  # $1: a folder; leaves the patched source in $1/mmcv-$MMCV_VERSION
    local dir=$1 setup=$1/mmcv-$MMCV_VERSION/setup.py
    mkdir -p "$dir"
    log "fetching the mmcv $MMCV_VERSION sdist"
    # Without isolation: an isolated metadata build takes the newest setuptools, which no
    # longer has the pkg_resources that mmcv's setup.py imports.
    step "downloading the mmcv $MMCV_VERSION sdist" "check that the package index is reachable (pip's message is above)" \
        quiet_pip download --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$dir"
    step "unpacking the mmcv sdist" "the download is damaged; run the install again" \
        tar xzf "$dir/mmcv-$MMCV_VERSION.tar.gz" -C "$dir"
    # torch 2.14's headers need C++20; mmcv's setup.py asks for C++14/17
    sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$setup"
    if ! grep -q -- '-std=c++20' "$setup" || grep -qE -- '-std=c\+\+1[47]' "$setup"; then
        fail "patching mmcv's setup.py for C++20 failed: its compiler flags are not where they were; see $setup"
    fi
}

# Prints "cpu", or "cuda <arch list> <cuda version>" when a GPU and a CUDA toolkit are both there.
wanted_ops() {
    if [[ ${MMCV_OPS:-} == cpu ]]; then
        echo cpu
        return
    fi
    $VENV/bin/python - <<'EOF'
import os
import torch
if not torch.cuda.is_available():
    print('cpu')
    raise SystemExit
from torch.utils.cpp_extension import CUDA_HOME  # noqa: E402 (warns when there is no GPU)
if not CUDA_HOME or not os.path.exists(os.path.join(CUDA_HOME, 'bin', 'nvcc')):
    print('cpu-no-toolkit')
else:
    caps = sorted({torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())})
    print('cuda', ';'.join(f'{major}.{minor}' for major, minor in caps), torch.version.cuda)
EOF
}

installed_ops() {  # cpu / cuda for the mmcv in the venv, nothing when it has no working ops
    $VENV/bin/python -c "
import mmcv.ops
print('cpu' if mmcv.ops.get_compiling_cuda_version() == 'not available' else 'cuda')" 2>/dev/null || true
}

find_mmcv_wheel() {  # $1: the flavour's cache folder name
    local flavour=$1 dir candidate candidates
    local dirs=${MMCV_WHEEL_DIR:-}:$CACHE
    IFS=: read -ra dirs <<< "$dirs"
    for dir in "${dirs[@]}"; do
        [[ -n $dir ]] || continue
        candidates=("$dir/$flavour/$MMCV_WHEEL")
        # prebuilt-wheel folders (and caches of earlier versions) hold the CPU wheel at the top
        [[ $flavour != cpu ]] || candidates+=("$dir/$MMCV_WHEEL")
        for candidate in "${candidates[@]}"; do
            if [[ -f $candidate ]]; then
                echo "$candidate"
                return
            fi
        done
    done
}

show_build_progress() {  # ninja's [n/m] lines, each with the time since the build began
    local start=$SECONDS line elapsed
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]*\[([0-9]+)/([0-9]+)\] ]]; then
            elapsed=$((SECONDS - start))
            printf '[install] mmcv build: compiled %s of %s  (%dm%02ds)\n' \
                "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" $((elapsed / 60)) $((elapsed % 60))
        fi
    done
}

build_mmcv_wheel() {  # $1 flavour, $2 its arch list (cuda only); writes $CACHE/$1/$MMCV_WHEEL
    local flavour=$1 arch_list=${2:-} work build_log target=$CACHE/$1/$MMCV_WHEEL
    local jobs=${MAX_JOBS:-$(nproc)}
    work=$(mktemp -d "${TMPDIR:-/tmp}/mmlow-mmcv.XXXXXX")
    # The work folder and a half-copied wheel go on any exit, Ctrl-C included, so the cache
    # only ever holds complete wheels and a rerun starts clean.
    trap 'rm -rf "$work" "$target.partial"' EXIT
    fetch_mmcv_source "$work"
    mkdir -p "$CACHE/$flavour"
    build_log=$CACHE/$flavour/build.log
    local env_ops=(MMCV_WITH_OPS=1 MAX_JOBS="$jobs" PATH="$PWD/$VENV/bin:$PATH" PYTHONUNBUFFERED=1)
    if [[ $flavour == cpu ]]; then
        log "building mmcv $MMCV_VERSION with CPU ops, $jobs jobs (about 17 min on 2 cores; log: $build_log)"
    else
        env_ops+=(FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$arch_list")
        log "building mmcv $MMCV_VERSION with CUDA ops for sm $arch_list, $jobs jobs (log: $build_log)"
    fi
    local start=$SECONDS
    set +e
    env "${env_ops[@]}" "$VENV/bin/python" -m pip --disable-pip-version-check wheel -v --no-deps \
        --no-build-isolation -w "$work/dist" "$work/mmcv-$MMCV_VERSION" 2>&1 |
        tee "$build_log" | show_build_progress
    local status=${PIPESTATUS[0]}
    set -e
    if [[ $status != 0 ]]; then
        tail -n 15 "$build_log" >&2
        fail "compiling mmcv failed (last lines above, whole log in $build_log): a compiler (g++) and Python 3.11 headers are needed; fix what the log names and run the install again"
    fi
    cp "$work"/dist/mmcv-$MMCV_VERSION-*.whl "$target.partial"
    mv "$target.partial" "$target"
    log "built $target in $(((SECONDS - start) / 60)) min"
    rm -rf "$work"
    trap - EXIT
}

install_mmcv() {
    local ops wanted flavour arch_list cuda_version wheel
    ops=$(wanted_ops) || fail "torch does not import in $VENV: delete $VENV and run the install again"
    read -r wanted arch_list cuda_version <<< "$ops"
    case $wanted in
        cpu-no-toolkit)
            log "a GPU is visible but no CUDA toolkit (nvcc) is: mmcv gets CPU ops only; install the CUDA $("$VENV/bin/python" -c 'import torch; print(torch.version.cuda)') toolkit and run the install again for CUDA ops"
            wanted=cpu ;;
    esac
    if [[ $wanted == cpu ]]; then
        flavour=cpu
    else
        flavour=cuda$cuda_version-sm${arch_list//[.;]/}
    fi
    if [[ $(installed_ops) == "$wanted" ]]; then
        return
    fi
    wheel=$(find_mmcv_wheel "$flavour")
    if [[ -z $wheel ]]; then
        log "no prebuilt $MMCV_WHEEL ($flavour) in MMCV_WHEEL_DIR or $CACHE"
        build_mmcv_wheel "$flavour" "$arch_list"
        wheel=$CACHE/$flavour/$MMCV_WHEEL
    fi
    log "installing $wheel ($wanted ops)"
    step "installing the mmcv wheel" "the wheel may be damaged: delete $wheel and run the install again" \
        $PIP install --force-reinstall --no-deps "$wheel"
    step "installing mmcv's dependencies" "see pip's message above" \
        quiet_pip install "$wheel" -c requirements/lock.txt
}

main() {
    local inputs_hash
    # the GPU tools are hashed too, so that a toolkit installed later leads to a CUDA build
    inputs_hash=$({ cat requirements/*.txt pyproject.toml tools/install.sh
                    command -v nvcc nvidia-smi || true
                    echo "${CUDA_HOME:-} ${MMCV_OPS:-}"; } | sha256sum | cut -c1-16)
    if [[ -f $STAMP && ! -e $INCOMPLETE && "$(cat "$STAMP")" == "$inputs_hash" ]]; then
        log "$VENV is up to date"
        return
    fi
    # The marker names the phase an interrupted install was in: pip stopped halfway through the
    # stack can leave a package half-written, so that venv is made anew; an interrupted mmcv
    # step is redone on its own.
    if [[ -e $INCOMPLETE && $(cat "$INCOMPLETE") != mmcv ]]; then
        log "an earlier install of $VENV was interrupted: making it afresh"
        rm -rf "$VENV"
    fi
    if [[ ! -x $VENV/bin/python ]]; then
        check_python
        rm -rf "$VENV"
        mkdir -p "$VENV"
        echo stack > "$INCOMPLETE"
        log "creating $VENV with $($PYTHON --version)"
        step "creating the virtual environment" "check that $PYTHON has the venv module (Debian/Ubuntu: apt install python3.11-venv)" \
            "$PYTHON" -m venv "$VENV"
    fi
    rm -f "$STAMP"
    if [[ ! -e $INCOMPLETE || $(cat "$INCOMPLETE") != mmcv ]]; then
        echo stack > "$INCOMPLETE"
        log "installing the pinned stack (torch 2.14.1 comes from local disk)"
        step "installing the pinned stack" "see pip's message above; run the install again once it is fixed" \
            quiet_pip install -r requirements/runtime.txt -r requirements/tests.txt -c requirements/lock.txt
        echo mmcv > "$INCOMPLETE"
    fi
    install_mmcv
    step "installing mmlow" "see pip's message above" \
        $PIP install --no-deps --no-build-isolation -e .
    step "importing the stack" "an import above failed; delete $VENV and run the install again" \
        $VENV/bin/python -c "import mmlow, mmcv.ops, mmdet, mmseg, mmpretrain"
    echo "$inputs_hash" > "$STAMP"
    rm -f "$INCOMPLETE"
    log "done: $VENV ready (mmcv with $(installed_ops) ops)"
}

case ${1:-} in
    "") main ;;
    fetch-mmcv)
        [[ -n ${2:-} ]] || fail "usage: tools/install.sh fetch-mmcv DIR"
        [[ -x $VENV/bin/python ]] || fail "$VENV does not exist: run tools/install.sh first"
        fetch_mmcv_source "$2"
        log "patched source in $2/mmcv-$MMCV_VERSION" ;;
    *) fail "unknown command '$1': use 'tools/install.sh' or 'tools/install.sh fetch-mmcv DIR'" ;;
esac
