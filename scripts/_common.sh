# shellcheck shell=bash
# Helpers shared by scripts/test.sh and scripts/run-demo.sh. Source this file from
# the repository root after `set -euo pipefail`; it is not meant to be run on its own.
#
# Public functions:
#   log MESSAGE...                 print "<LOG_PREFIX>: MESSAGE" on stderr
#   die MESSAGE...                 log an error and exit 1
#   apt_install PKG...             apt-get install (runs `apt-get update` at most once per run)
#   ensure_apt_packages BIN... -- PKG...
#                                  install PKG... only if one of BIN... is missing
#   ensure_venv                    create ./.venv if needed and put it first on PATH

log() {
    printf '%s: %s\n' "${LOG_PREFIX:-helpdesk}" "$*" >&2
}

die() {
    log "error: $*"
    exit 1
}

_APT_UPDATED=0

# apt_install PKG...
# Installs Debian packages non-interactively, without recommended packages. apt's
# output goes to a log file (shown on failure): a daemon started by a package's
# post-install script must not inherit our stdout, or `test.sh | tail` never ends.
apt_install() {
    (($# > 0)) || return 0
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found; install these Debian packages (or your system's equivalents) first: $*"
    local -a sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "root (or sudo) is needed to install: $*"
        sudo=(sudo)
    fi
    local aptlog
    aptlog=$(mktemp "${TMPDIR:-/tmp}/helpdesk-apt.XXXXXX")
    if ((_APT_UPDATED == 0)); then
        log "apt-get update"
        if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
            </dev/null >"$aptlog" 2>&1; then
            tail -n 30 "$aptlog" >&2
            die "apt-get update failed (full log: $aptlog)"
        fi
        _APT_UPDATED=1
    fi
    log "apt-get install $*"
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends "$@" </dev/null >>"$aptlog" 2>&1; then
        tail -n 30 "$aptlog" >&2
        die "apt-get install $* failed (full log: $aptlog)"
    fi
    rm -f "$aptlog"
}

# have_program NAME|PATTERN
# A bare name is looked up on PATH; anything containing "/" is a path or glob
# (e.g. '/usr/lib/postgresql/*/bin/initdb') that must match an executable file.
have_program() {
    local p=$1 f
    if [[ $p == */* ]]; then
        for f in $p; do
            [[ -f $f && -x $f ]] && return 0
        done
        return 1
    fi
    command -v "$p" >/dev/null 2>&1
}

# ensure_apt_packages BIN... -- PKG...
# Installs the Debian packages PKG... when any of the programs BIN... is missing
# (see have_program for what a BIN may be), then checks that they all exist.
# Examples:
#   ensure_apt_packages redis-server -- redis-server
#   ensure_apt_packages dovecot doveadm -- dovecot-imapd dovecot-core
#   ensure_apt_packages chromium -- chromium
ensure_apt_packages() {
    local -a bins=() missing=()
    while (($# > 0)) && [[ $1 != -- ]]; do
        bins+=("$1")
        shift
    done
    (($# > 1 && ${#bins[@]} > 0)) || die "usage: ensure_apt_packages BIN... -- PKG..."
    shift
    local b
    for b in "${bins[@]}"; do
        have_program "$b" || missing+=("$b")
    done
    ((${#missing[@]} > 0)) || return 0
    log "missing ${missing[*]}: installing Debian packages $*"
    apt_install "$@"
    for b in "${missing[@]}"; do
        have_program "$b" || die "$b is still missing after installing $*"
    done
}

# ensure_venv
# Creates ./.venv with ${PYTHON:-python3} (>= 3.11) unless a working one exists,
# installing Debian's pythonX.Y-venv when the interpreter lacks venv/ensurepip,
# then activates it for the rest of the script.
ensure_venv() {
    local py=${PYTHON:-python3} ver
    if ! { [[ -x .venv/bin/python ]] &&
        .venv/bin/python -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; }; then
        command -v "$py" >/dev/null 2>&1 || die "$py not found; install Python 3.11 or newer"
        "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
            die "Python >= 3.11 is required, $py is $("$py" -V 2>&1)"
        log "creating .venv with $("$py" -V 2>&1)"
        if ! "$py" -m venv --clear .venv >/dev/null 2>&1; then
            # Debian ships venv's ensurepip in a separate package.
            ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
            apt_install "python${ver}-venv"
            "$py" -m venv --clear .venv || die "could not create .venv with $py"
        fi
    fi
    VIRTUAL_ENV="$PWD/.venv"
    PATH="$VIRTUAL_ENV/bin:$PATH"
    export VIRTUAL_ENV PATH
    unset PYTHONHOME
}

# pip_install ARG...
# Quiet `pip install` into the active venv.
pip_install() {
    python -m pip install -q --disable-pip-version-check "$@"
}
