#!/usr/bin/env bash
# A maintainer's check before a release: the README's two commands as a new user runs them.
# A fresh clone of HEAD, empty wheel and pip caches, no MMCV_WHEEL_DIR (so mmcv is built from
# source), then `make install`, `make demo` and `make test`, each timed. About 45 min on 2 cores.
#   tools/install_check.sh [WORK_DIR]    (`make install-check`)
# INSTALL_CHECK_LOCK=FILE holds that lock file during each step, so that on a shared machine
# other heavy jobs wait instead of slowing the timed steps.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/mmlow-install-check.XXXXXX")}
mkdir -p "$work"
git clone -q "$repo" "$work/mmlow"
cd "$work/mmlow"
export MMLOW_CACHE=$work/cache PIP_CACHE_DIR=$work/pip-cache
unset MMCV_WHEEL_DIR
echo "[install-check] fresh clone of $(git rev-parse --short HEAD) in $work/mmlow, empty caches"

timed() {  # the time of the step itself, after any wait for the lock
    if [[ -n ${INSTALL_CHECK_LOCK:-} ]]; then
        exec 9>"$INSTALL_CHECK_LOCK"
        flock 9
    fi
    local start=$SECONDS
    "$@"
    echo "[install-check] $*: $((SECONDS - start)) s" | tee -a "$work/times.txt"
    if [[ -n ${INSTALL_CHECK_LOCK:-} ]]; then
        flock -u 9
    fi
}
timed make install
timed make demo
timed make test
cat "$work/times.txt"
