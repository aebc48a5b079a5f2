#!/usr/bin/env bash
# One entry point for a fresh machine: `bash dev.sh bench` (set up, then run the main job) and
# `bash dev.sh test` (set up, then lint, type-check and run the tests). Set-up is idempotent.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV=${IPA_ENERGY_VENV:-.venv}

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  # torch and torchvision first, pinned to the builds this machine class has on local disk (torchvision
  # 0.29.1 needs torch 2.14.1); an unpinned torch would download a multi-GB build instead.
  "$VENV/bin/python" -c "import torchvision" 2>/dev/null \
    || "$VENV/bin/python" -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
  "$VENV/bin/python" -m pip install -q -e ".[dev,vision,ray,segment]"
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup ;;
  bench)
    setup
    "$VENV/bin/ipa-energy" bench --overwrite --out "${IPA_ENERGY_OUT:-results/bench}" "$@"
    ;;
  test)
    setup
    "$VENV/bin/ruff" check src tests benchmarks
    "$VENV/bin/mypy"
    "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: bash dev.sh {bench|test|setup} [extra args]" >&2
    exit 2
    ;;
esac
