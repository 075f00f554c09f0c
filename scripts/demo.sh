#!/usr/bin/env bash
# Command (1): install, seed the demo community, and serve it on SQLite.
#   scripts/demo.sh [--port 8000] [--password demo-pass-2026]
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=8000
PASSWORD=${DOORSTEP_DEMO_PASSWORD:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --password) PASSWORD=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
if [ -n "$PASSWORD" ]; then
  .venv/bin/doorstep demo --port "$PORT" --password "$PASSWORD"
else
  .venv/bin/doorstep demo --port "$PORT"
fi
exec .venv/bin/doorstep serve --host 0.0.0.0 --port "$PORT"
