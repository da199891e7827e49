#!/usr/bin/env bash
# Install the app and serve it with demo data at http://127.0.0.1:8000
# (embedded mode: SQLite under ./data, in-process worker, no Redis needed; demo mode:
# outbound mail is caught and shown at /console/admin/outbox).
# `helpdesk demo` is idempotent, so running this script again is safe.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
LOG_PREFIX=run-demo.sh
# shellcheck source=scripts/_common.sh
. scripts/_common.sh

ensure_venv
log "installing the app into .venv"
pip_install -e .

mkdir -p data
: "${HELPDESK_DATABASE_URL:=sqlite:///./data/helpdesk.db}"
export HELPDESK_DATABASE_URL

log "helpdesk migrate"
helpdesk migrate
log "helpdesk demo"
helpdesk demo
log "serving http://127.0.0.1:8000 (Ctrl-C to stop)"
exec helpdesk run --demo --host 127.0.0.1 --port 8000
