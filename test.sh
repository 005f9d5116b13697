#!/usr/bin/env bash
# Sets everything up, then runs the linters, the type checker and every test
# (CPython unit tests and the end-to-end tests in real headless Chromium).
set -euo pipefail
cd "$(dirname "$0")"
bash build_scripts/setup.sh
.venv/bin/ruff check py_src tests e2e_tests build_scripts
.venv/bin/ruff format --check py_src tests e2e_tests build_scripts
.venv/bin/mypy
exec .venv/bin/pytest -q "$@"
