#!/usr/bin/env bash
# Sets everything up, then serves the app and the usage service at http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")"
bash build_scripts/setup.sh
exec .venv/bin/pywebcodecs serve --host 127.0.0.1 --port "${PORT:-8000}" --static static "$@"
