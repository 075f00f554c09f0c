#!/usr/bin/env bash
# Command (2): install what the tests need (Chromium and CJK fonts included) and run the whole suite.
#   scripts/test.sh [pytest args]
# DOORSTEP_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test runs it on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check server sync tests bench
.venv/bin/ruff format --check server sync tests bench
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/bandit -q -c pyproject.toml -r server sync
.venv/bin/vulture server sync scripts/vulture_whitelist.py --min-confidence 60 --exclude server/migrations
exec .venv/bin/python -m pytest "$@"
