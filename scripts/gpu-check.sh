#!/usr/bin/env bash
# A tiny end-to-end epoch of the bundled student on the accelerator this machine has (CUDA, else MPS),
# checked against the same epoch on the CPU; prints tokens/s. Exits 0 saying so when there is none.
# `scripts/gpu-check.sh --device cpu` runs the comparison CPU against CPU. See scripts/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export DVC_NO_ANALYTICS=1 HF_HUB_OFFLINE=1
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" scripts/gpu_check.py "$@"
