#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]   (see dist_run.sh)
exec "$(dirname "$0")/dist_run.sh" train.py "$2" "$1" "${@:3}"
