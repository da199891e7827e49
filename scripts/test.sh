#!/usr/bin/env bash
# Install everything and run the whole test suite, as CI does:
#   ruff check, ruff format --check, mypy --strict, then pytest (SQLite and
#   PostgreSQL, real Redis). Arguments are passed on to pytest; without any,
#   the suite runs on one pytest worker per core, then the serial tests alone.
#
# PostgreSQL: HELPDESK_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
# Redis:      HELPDESK_TEST_REDIS_URL    (default redis://127.0.0.1:6379/0).
# When a server is not reachable there, a private throwaway one is started on a
# free local port (Debian packages are installed first if needed), the variable
# is pointed at it, and it is stopped and deleted when this script exits.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
LOG_PREFIX=test.sh
# shellcheck source=scripts/_common.sh
. scripts/_common.sh

readonly LINT_DIRS=(helpdesk knowledge_base portal agent_console tests bench)

RUN_DIR=""       # temp dir holding private services; removed at exit
PG_BIN=""        # bin dir of the PostgreSQL used for the private cluster
PG_DATA=""       # data dir of the private cluster, when one was started
REDIS_PIDFILE="" # pid file of the private Redis, when one was started

cleanup() {
    local rc=$? pid
    set +e
    trap - EXIT INT TERM
    if [[ -n $REDIS_PIDFILE && -s $REDIS_PIDFILE ]]; then
        stop_pid "$(head -n 1 "$REDIS_PIDFILE")"
    fi
    if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
        if ! run_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop \
            </dev/null >/dev/null 2>&1; then
            pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)
            [[ -n $pid ]] && stop_pid "$pid"
        fi
    fi
    [[ -n $RUN_DIR ]] && rm -rf "$RUN_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_pid PID: SIGTERM, wait up to 15 s, then SIGKILL.
stop_pid() {
    local pid=$1 i
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "process $pid did not stop after SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

make_run_dir() {
    if [[ -z $RUN_DIR ]]; then
        RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/helpdesk-test.XXXXXX")
        chmod 0755 "$RUN_DIR" # the postgres user must be able to enter it
    fi
}

# free_port START: print the first port >= START that 127.0.0.1 can bind.
free_port() {
    python - "$1" <<'PY'
import socket
import sys

start = int(sys.argv[1])
for port in range(start, start + 200):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    sys.exit(f"no free TCP port in {start}..{start + 199}")
PY
}

# ---------------------------------------------------------------- PostgreSQL

# postgres_ready URL: succeed if URL accepts a connection; if the server is up
# but the database does not exist, create it.
postgres_ready() {
    python - "$1" <<'PY'
import asyncio
import sys
from urllib.parse import unquote, urlsplit

import asyncpg

url = sys.argv[1]


async def main() -> int:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except asyncpg.InvalidCatalogNameError:
        dbname = unquote(urlsplit(url).path.lstrip("/"))
        admin = await asyncpg.connect(url, database="postgres", timeout=3)
        try:
            await admin.execute('CREATE DATABASE "{}"'.format(dbname.replace('"', '""')))
        finally:
            await admin.close()
        conn = await asyncpg.connect(url, timeout=3)
    await conn.fetchval("SELECT 1")
    await conn.close()
    return 0


try:
    sys.exit(asyncio.run(main()))
except Exception as exc:  # any failure means "not usable"
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

run_as_postgres() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# find_pg_bin: set PG_BIN to the newest Debian PostgreSQL bin dir, else to the
# directory of an initdb found on PATH.
find_pg_bin() {
    local initdb
    initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
    if [[ ! -x $initdb ]]; then
        initdb=$(command -v initdb 2>/dev/null) || return 1
        initdb=$(readlink -f "$initdb")
    fi
    PG_BIN=$(dirname "$initdb")
    [[ -x $PG_BIN/pg_ctl && -x $PG_BIN/createdb ]]
}

start_private_postgres() {
    find_pg_bin || {
        ensure_apt_packages '/usr/lib/postgresql/*/bin/initdb' -- postgresql
        find_pg_bin || die "PostgreSQL's initdb/pg_ctl/createdb not found"
    }
    if ((EUID == 0)); then
        id -u postgres >/dev/null 2>&1 ||
            die "initdb cannot run as root and there is no 'postgres' user"
    fi
    make_run_dir
    local dir=$RUN_DIR/postgres port
    port=$(free_port 55432)
    mkdir -p "$dir"
    ((EUID != 0)) || chown postgres:postgres "$dir"
    log "starting a private PostgreSQL ($PG_BIN) on 127.0.0.1:$port"
    if ! run_as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
        -E UTF8 --locale=C.UTF-8 </dev/null >"$RUN_DIR/initdb.log" 2>&1; then
        tail -n 30 "$RUN_DIR/initdb.log" >&2
        die "initdb failed"
    fi
    PG_DATA=$dir/data # from here on, cleanup stops the cluster
    if ! run_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start </dev/null >"$RUN_DIR/pg_ctl.log" 2>&1; then
        tail -n 30 "$RUN_DIR/pg_ctl.log" "$dir/postgres.log" >&2
        die "PostgreSQL did not start"
    fi
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres test </dev/null >&2 ||
        die "createdb test failed"
    HELPDESK_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/test"
    export HELPDESK_TEST_POSTGRES_URL
    postgres_ready "$HELPDESK_TEST_POSTGRES_URL" ||
        die "private PostgreSQL is not reachable at $HELPDESK_TEST_POSTGRES_URL"
}

ensure_postgres() {
    : "${HELPDESK_TEST_POSTGRES_URL:=postgresql://postgres@127.0.0.1:5432/test}"
    export HELPDESK_TEST_POSTGRES_URL
    if postgres_ready "$HELPDESK_TEST_POSTGRES_URL" 2>/dev/null; then
        log "PostgreSQL: using $HELPDESK_TEST_POSTGRES_URL"
    else
        log "PostgreSQL: nothing usable at $HELPDESK_TEST_POSTGRES_URL"
        start_private_postgres
        log "PostgreSQL: using private cluster at $HELPDESK_TEST_POSTGRES_URL"
    fi
}

# --------------------------------------------------------------------- Redis

# redis_ready URL [SECONDS]: succeed once URL answers PING (retrying for SECONDS).
redis_ready() {
    python - "$1" "${2:-0}" <<'PY'
import sys
import time

import redis

url, wait = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + wait
while True:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as r:
            r.ping()
        sys.exit(0)
    except Exception as exc:
        if time.monotonic() >= deadline:
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.1)
PY
}

start_private_redis() {
    ensure_apt_packages redis-server -- redis-server
    make_run_dir
    local dir=$RUN_DIR/redis port
    port=$(free_port 56379)
    mkdir -p "$dir"
    log "starting a private Redis on 127.0.0.1:$port"
    REDIS_PIDFILE=$dir/redis.pid # from here on, cleanup stops it
    if ! redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$dir/redis.log" --dir "$dir" \
        </dev/null >"$dir/stdout.log" 2>&1; then
        tail -n 30 "$dir/stdout.log" "$dir/redis.log" >&2 2>/dev/null
        die "redis-server did not start"
    fi
    HELPDESK_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
    export HELPDESK_TEST_REDIS_URL
    if ! redis_ready "$HELPDESK_TEST_REDIS_URL" 15; then
        tail -n 30 "$dir/redis.log" >&2 2>/dev/null
        die "private Redis is not reachable at $HELPDESK_TEST_REDIS_URL"
    fi
}

ensure_redis() {
    : "${HELPDESK_TEST_REDIS_URL:=redis://127.0.0.1:6379/0}"
    export HELPDESK_TEST_REDIS_URL
    if redis_ready "$HELPDESK_TEST_REDIS_URL" 2>/dev/null; then
        log "Redis: using $HELPDESK_TEST_REDIS_URL"
    else
        log "Redis: nothing usable at $HELPDESK_TEST_REDIS_URL"
        start_private_redis
        log "Redis: using private server at $HELPDESK_TEST_REDIS_URL"
    fi
}

# ---------------------------------------------------------------------- main

step() {
    log "==> $*"
    "$@"
}

main() {
    ensure_venv
    log "installing .[test] into .venv"
    pip_install -e '.[test]'

    local -a dirs=()
    local d
    for d in "${LINT_DIRS[@]}"; do
        [[ -d $d ]] && dirs+=("$d")
    done
    ((${#dirs[@]} > 0)) || die "none of ${LINT_DIRS[*]} exists"

    # Static checks first: they need no services and fail fastest.
    step ruff check "${dirs[@]}"
    step ruff format --check "${dirs[@]}"
    step mypy

    ensure_postgres
    ensure_redis
    ensure_apt_packages dovecot doveadm -- dovecot-imapd dovecot-core
    ensure_apt_packages chromium -- chromium # the browser tests (tests/e2e) drive Debian's Chromium

    local rc=0
    if (($# > 0)); then
        run_pytest "$@" || rc=$?
    else
        # Two parts: everything but the serial tests on one process per core
        # (each worker has its own database and Redis namespace), then the
        # tests that kill processes or stop services, alone.
        run_pytest -n "$(test_workers)" -m "not serial" || rc=$?
        run_pytest -m serial || rc=$?
    fi
    return "$rc"
}

# test_workers: HELPDESK_TEST_WORKERS, else one pytest worker per core (at least 2).
test_workers() {
    local n=${HELPDESK_TEST_WORKERS:-$(nproc)}
    ((n >= 2)) || n=2
    echo "$n"
}

# run_pytest ARGS: one pytest run; zero collected tests is a failure.
run_pytest() {
    local rc=0
    step pytest -q -p no:cacheprovider "$@" || rc=$?
    if ((rc == 5)); then
        log "pytest collected no tests (exit code 5); a run with zero tests is a failure"
    elif ((rc != 0)); then
        log "pytest failed (exit code $rc)"
    fi
    return "$rc"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
