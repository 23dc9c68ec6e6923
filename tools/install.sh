#!/usr/bin/env bash
# Creates ./.venv with mmlow's exact stack. Idempotent: a stamp holding the hash of every input
# makes a second run with nothing changed return at once; a run that was interrupted (Ctrl-C,
# a lost session) leaves a marker, and the next run starts the venv afresh.
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is built from its sdist (about 17 min of 2 cores
# for the CPU ops) unless a prebuilt wheel is found in $MMCV_WHEEL_DIR (colon-separated folders)
# or in the cache ($MMLOW_CACHE, default ~/.cache/mmlow/wheels), where a fresh build is kept.
# With a GPU and a CUDA toolkit (nvcc) of torch's CUDA major version it builds the CUDA ops for
# that GPU instead; the two builds are cached apart ($CACHE/cpu/, $CACHE/cuda<version>-sm<arch>/),
# and the venv remembers which one it holds, so that a venv moved to another GPU is rebuilt.
# MMCV_OPS=cpu forces the CPU build. MAX_JOBS (default: every core) sets the compile jobs.
#
#   tools/install.sh                   install or repair .venv
#   tools/install.sh fetch-mmcv DIR    only fetch mmcv's sdist into DIR and patch it (no compile)
#   tools/install.sh mmcv-plan         say which mmcv the venv needs and where its wheel comes from
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
CACHE=${MMLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmlow/wheels}
MMCV_VERSION=2.1.0
MMCV_WHEEL=mmcv-$MMCV_VERSION-cp311-cp311-linux_x86_64.whl
STAMP=$VENV/.mmlow-install-stamp
FLAVOUR_FILE=$VENV/.mmlow-mmcv-flavour
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

# Prints "cpu", or "cuda <arch list> <torch's CUDA version>" when torch sees a GPU.
gpu_ops() {
    $VENV/bin/python - <<'EOF'
import torch
if torch.cuda.is_available():
    caps = sorted({torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())})
    print('cuda', ';'.join(f'{major}.{minor}' for major, minor in caps), torch.version.cuda)
else:
    print('cpu')
EOF
}

# The CUDA toolkit for the build, looked for where torch's extension builder looks (CUDA_HOME or
# CUDA_PATH as given, then nvcc on PATH, then /usr/local/cuda); the build gets it as CUDA_HOME.
# Unlike torch, a toolkit found by itself must hold the CUDA headers too: an nvcc on PATH can be
# a wrapper script (/usr/local/bin/nvcc) outside its toolkit.
find_cuda_home() {
    local nvcc homes=(/usr/local/cuda) home
    if [[ -n ${CUDA_HOME:-${CUDA_PATH:-}} ]]; then
        echo "${CUDA_HOME:-$CUDA_PATH}"
        return
    fi
    if nvcc=$(command -v nvcc); then
        homes=("$(dirname "$(dirname "$nvcc")")" "${homes[@]}")
    fi
    for home in "${homes[@]}"; do
        if [[ -x $home/bin/nvcc && -f $home/include/cuda_runtime.h ]]; then
            echo "$home"
            return
        fi
    done
}

nvcc_release() {  # $1: a CUDA home; prints nvcc's "X.Y", nothing without a working nvcc
    "$1/bin/nvcc" --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' |
        head -n 1 || true
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

# $1 flavour, for cuda: $2 its arch list, $3 the CUDA home; writes $CACHE/$1/$MMCV_WHEEL
build_mmcv_wheel() {
    local flavour=$1 arch_list=${2:-} cuda_home=${3:-} work build_log target=$CACHE/$1/$MMCV_WHEEL
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
        env_ops+=(FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$arch_list" CUDA_HOME="$cuda_home")
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
        if [[ $flavour == cpu ]]; then
            fail "compiling mmcv failed (last lines above, whole log in $build_log): a compiler (g++) and Python 3.11 headers are needed; fix what the log names and run the install again"
        fi
        fail "compiling mmcv's CUDA ops failed (last lines above, whole log in $build_log): nvcc $cuda_home/bin/nvcc (CUDA $(nvcc_release "$cuda_home")) compiled for TORCH_CUDA_ARCH_LIST=$arch_list; check that this nvcc knows these architectures and accepts its host compiler (g++), fix what the log names and run the install again, or set MMCV_OPS=cpu for CPU ops"
    fi
    cp "$work"/dist/mmcv-$MMCV_VERSION-*.whl "$target.partial"
    mv "$target.partial" "$target"
    log "built $target in $(((SECONDS - start) / 60)) min"
    rm -rf "$work"
    trap - EXIT
}

# Which mmcv the venv needs. Sets plan_status (cpu, cuda, or why a GPU gets CPU ops:
# cpu-no-toolkit, cpu-toolkit-mismatch), plan_flavour (cpu, or cuda<version>-sm<archs>),
# plan_arch_list and plan_cuda_home (for a CUDA build), plan_action (keep: the venv holds that
# flavour; install: its wheel is there; build) and plan_wheel (found, or where a build puts it).
plan_mmcv() {
    local ops torch_cuda='' release installed
    plan_status=cpu plan_flavour=cpu plan_arch_list='' plan_cuda_home='' plan_action=''
    if [[ ${MMCV_OPS:-} != cpu ]]; then
        ops=$(gpu_ops) || fail "torch does not import in $VENV: delete $VENV and run the install again"
        read -r plan_status plan_arch_list torch_cuda <<< "$ops"
    fi
    if [[ $plan_status == cuda ]]; then
        plan_cuda_home=$(find_cuda_home)
        release=''
        [[ -z $plan_cuda_home ]] || release=$(nvcc_release "$plan_cuda_home")
        if [[ -z $release ]]; then
            plan_status=cpu-no-toolkit
            log "$plan_status: a GPU is visible but no CUDA toolkit (nvcc in CUDA_HOME, CUDA_PATH, PATH or /usr/local/cuda) is: mmcv gets CPU ops only; install the CUDA $torch_cuda toolkit and run the install again for CUDA ops"
        elif [[ ${release%%.*} != "${torch_cuda%%.*}" ]]; then
            plan_status=cpu-toolkit-mismatch
            log "$plan_status: found nvcc $release ($plan_cuda_home/bin/nvcc), but torch is built for CUDA $torch_cuda: install the CUDA $torch_cuda toolkit or point CUDA_HOME at it, and run the install again for CUDA ops; building CPU ops meanwhile"
        else
            plan_flavour=cuda$torch_cuda-sm${plan_arch_list//[.;]/}
        fi
    fi
    if [[ $plan_flavour == cpu ]]; then
        plan_arch_list='' plan_cuda_home=''
    fi
    installed=$(installed_ops)
    # CPU ops fit any machine; CUDA ops only the GPU architectures they were built for
    if [[ $installed == "${plan_flavour%%[0-9]*}" &&
          ( $installed == cpu || "$(cat "$FLAVOUR_FILE" 2>/dev/null)" == "$plan_flavour" ) ]]; then
        plan_action=keep
    fi
    plan_wheel=$(find_mmcv_wheel "$plan_flavour")
    if [[ $plan_action != keep ]]; then
        plan_action=install
        [[ -n $plan_wheel ]] || plan_action=build
    fi
    [[ -n $plan_wheel ]] || plan_wheel=$CACHE/$plan_flavour/$MMCV_WHEEL
}

install_mmcv() {
    plan_mmcv
    [[ $plan_action != keep ]] || return 0
    if [[ $plan_action == build ]]; then
        log "no prebuilt $MMCV_WHEEL ($plan_flavour) in MMCV_WHEEL_DIR or $CACHE"
        build_mmcv_wheel "$plan_flavour" "$plan_arch_list" "$plan_cuda_home"
    fi
    log "installing $plan_wheel ($plan_flavour ops)"
    rm -f "$FLAVOUR_FILE"
    step "installing the mmcv wheel" "the wheel may be damaged: delete $plan_wheel and run the install again" \
        $PIP install --force-reinstall --no-deps "$plan_wheel"
    step "installing mmcv's dependencies" "see pip's message above" \
        quiet_pip install "$plan_wheel" -c requirements/lock.txt
    echo "$plan_flavour" > "$FLAVOUR_FILE"
}

main() {
    local inputs_hash
    # the GPU tools are hashed too, so that a toolkit installed later leads to a CUDA build
    inputs_hash=$({ cat requirements/*.txt pyproject.toml tools/install.sh
                    command -v nvcc nvidia-smi || true
                    nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null || true
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
    mmcv-plan)
        [[ -x $VENV/bin/python ]] || fail "$VENV does not exist: run tools/install.sh first"
        plan_mmcv
        printf 'ops %s\nflavour %s\ntoolkit %s\naction %s\nwheel %s\n' "$plan_status" \
            "$plan_flavour" "${plan_cuda_home:--}" "$plan_action" "$plan_wheel" ;;
    *) fail "unknown command '$1': use 'tools/install.sh', 'tools/install.sh fetch-mmcv DIR' or 'tools/install.sh mmcv-plan'" ;;
esac
