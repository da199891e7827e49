"""Real mail servers for tests: a private Dovecot (IMAP) and an aiosmtpd SMTP sink.

Both listen on 127.0.0.1 at a free port and are owned by the test process:

* :class:`Dovecot` runs ``dovecot -F -c CONF`` with its own config, passwd-file,
  maildirs, ``base_dir``, ``state_dir`` and log in a private temp dir. It is
  stopped with ``doveadm -c CONF stop`` and every process it started is checked
  to be gone (pitfalls 11 and 12 in /work/shared/STACK_NOTES.md).
* :class:`SmtpSink` is an aiosmtpd ``Controller`` that records every accepted
  message byte for byte and can be told to fail the next messages.

The pytest fixtures live in ``tests/integration/email/conftest.py``.

Facts worth knowing when writing tests against them (most are checked by
``tests/integration/email/test_mailservers.py``):

* fetching ``RFC822`` (or ``BODY[]``) sets ``\\Seen``; ``BODY.PEEK[]`` does not;
* IDLE works (``idle()`` / ``idle_check(timeout=...)`` / ``idle_done()``) and
  wakes up within a second of an APPEND from another connection;
* :meth:`Dovecot.reset_uidvalidity` (``doveadm mailbox update --uid-validity``)
  gives the folder a new, higher UIDVALIDITY and keeps its messages and their
  UID numbers. A client that has the folder selected at that moment is
  disconnected ("IMAP session state is inconsistent, please relogin");
* users live in one passwd-file each (``passwd.d/<user>``), so a new user can
  log in at once; a password change is seen within a second (``add_user``
  waits for it);
* Dovecot's auth penalty is switched off (real servers delay logins from an IP
  for 2-15 s after a failed one); a failed login still takes about 0.5 s;
* :meth:`Dovecot.stop` disconnects open sessions (they get SIGTERM, like
  ``shutdown_clients``), :meth:`Dovecot.kill` SIGKILLs every Dovecot process
  (a crash: connections drop, the port refuses); both keep the mail, and
  :meth:`Dovecot.start` / :meth:`Dovecot.ensure_running` bring the server back
  on the same port;
* :class:`SmtpSink` keeps the DATA bytes exactly as sent (after SMTP
  dot-unstuffing; CRLF line ends; 8-bit untouched) and offers SMTPUTF8 and
  8BITMIME.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

LOOPBACK = "127.0.0.1"
# Dovecot's default auth_username_chars.
_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@")
NOBODY_UID = 65534
NOBODY_GID = 65534

INSTALL_HINT = (
    "Run scripts/test.sh (it installs the Debian packages dovecot-imapd and "
    "dovecot-core when they are missing), or install them yourself: "
    "apt-get install -y --no-install-recommends dovecot-imapd dovecot-core"
)

# Where Debian puts the binaries; /usr/sbin is often not on a normal user's PATH.
_SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class DovecotMissingError(RuntimeError):
    """The ``dovecot`` or ``doveadm`` binary is not installed."""


def find_dovecot() -> tuple[str, str]:
    """Paths of the ``dovecot`` and ``doveadm`` binaries, else :class:`DovecotMissingError`."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SEARCH_DIRS])
    found = {name: shutil.which(name, path=search) for name in ("dovecot", "doveadm")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise DovecotMissingError(f"{' and '.join(missing)} not found. {INSTALL_HINT}")
    return found["dovecot"] or "", found["doveadm"] or ""


# ---------------------------------------------------------------- processes


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgrp) of a live process, None if it is gone (or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[0], int(fields[1]), int(fields[2])


def _group_pids(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (Linux /proc; [] elsewhere)."""
    pids = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                stat = _proc_stat(int(entry.name))
                if stat is not None and stat[2] == pgid:
                    pids.append(int(entry.name))
    return pids


def _wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait up to ``timeout`` s for ``pids`` to exit; return those still alive."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while True:
        alive = [pid for pid in alive if _proc_stat(pid) is not None]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


# ------------------------------------------------------------------ Dovecot


@dataclass(frozen=True)
class MailboxUser:
    """An IMAP account on a :class:`Dovecot`; the name is also a mail address."""

    server: Dovecot = field(repr=False)
    name: str
    password: str = field(repr=False)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def connect(self, timeout: float = 10.0) -> IMAPClient:
        """A new, logged-in IMAPClient; use it as a context manager to log out."""
        return self.server.connect(self.name, self.password, timeout=timeout)

    def append(
        self,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[bytes | str] = (),
        msg_time: datetime | None = None,
    ) -> int:
        return self.server.append(self.name, raw, folder, flags, msg_time)

    def count(self, folder: str = "INBOX") -> int:
        return self.server.count(self.name, folder)

    def uidvalidity(self, folder: str = "INBOX") -> int:
        return self.server.uidvalidity(self.name, folder)

    def reset_uidvalidity(self, folder: str = "INBOX") -> int:
        return self.server.reset_uidvalidity(self.name, folder)


_CONFIG = """\
# Private Dovecot for the helpdesk test suite; written by tests/mailservers.py.
instance_name = {instance}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
debug_log_path = {root}/dovecot.log
protocols = imap
listen = {host}
shutdown_clients = yes
login_greeting = {greeting}
{users}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
auth_cache_size = 0
first_valid_uid = {first_valid_uid}
first_valid_gid = {first_valid_gid}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
# IDLE: inotify normally wakes it at once; this is the fallback poll.
mailbox_idle_check_interval = 1 secs

passdb {{
  driver = passwd-file
  # One passwd-file per user: a new user's file is read at once (Dovecot
  # re-stats an already-open passwd-file at most once a second).
  args = scheme=PLAIN username_format=%u {root}/passwd.d/%u
}}

userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u allow_all_users=yes
}}

protocol imap {{
  mail_max_userip_connections = 1000
}}

# No auth penalty: Dovecot otherwise delays every login (good ones too) from
# an IP by 2-15 s after a failed one, which would slow tests that check bad
# passwords and all the tests after them. (Failed logins still take ~0.5 s.)
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
{anvil_extra}}}

service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{login_extra}}}
{services_extra}"""


class Dovecot:
    """A private Dovecot IMAP server on 127.0.0.1 (see the module docstring).

    Everything lives under ``root`` (a new temp dir by default, removed by
    :meth:`close`). Users are added with :meth:`add_user`; their mail is in
    ``root/mail/<user>`` (maildir), owned by nobody (uid/gid 65534) when run
    as root, by the current user otherwise.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        host: str = LOOPBACK,
        start_timeout: float = 30.0,
    ) -> None:
        self.dovecot_bin, self.doveadm_bin = find_dovecot()
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-") if root is None else root)
        self.host = host
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port(host)
        self.start_timeout = start_timeout
        self.config_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.stderr_path = self.root / "dovecot.stderr"
        self.passwd_dir = self.root / "passwd.d"
        self.startup_seconds: float | None = None  # of the last successful start()
        self._proc: subprocess.Popen[bytes] | None = None
        self._users: dict[str, str] = {}
        self._lock = threading.RLock()
        self._instance = f"helpdesk-test-{os.getpid()}-{id(self):x}"
        if os.geteuid() == 0:
            self.uid, self.gid = NOBODY_UID, NOBODY_GID
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self._prepare_root()

    # -- files

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # dovecot's internal users and nobody must be able to walk into it.
        self.root.chmod(0o755)
        for sub in ("run", "state", "passwd.d"):
            (self.root / sub).mkdir(exist_ok=True)
            (self.root / sub).chmod(0o755)
        for sub in ("mail", "home"):
            path = self.root / sub
            path.mkdir(exist_ok=True)
            path.chmod(0o700)
            if os.geteuid() == 0:
                os.chown(path, self.uid, self.gid)
        self._write_config()

    def _write_config(self) -> None:
        if os.geteuid() == 0:
            users = login_extra = anvil_extra = services_extra = ""
        else:
            # Unprivileged: every service runs as us, nothing can chroot.
            import grp
            import pwd

            me = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            users = (
                f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                f"default_internal_group = {group}"
            )
            login_extra = "  chroot =\n"
            anvil_extra = "  chroot =\n"
            services_extra = "service auth-worker {\n  user = $default_internal_user\n}\n"
        text = _CONFIG.format(
            instance=self._instance,
            greeting=f"{self._instance} ready.",
            root=self.root,
            host=self.host,
            port=self.port,
            uid=self.uid,
            gid=self.gid,
            first_valid_uid=min(self.uid, 500),
            first_valid_gid=min(self.gid, 1),
            users=users,
            login_extra=login_extra,
            anvil_extra=anvil_extra,
            services_extra=services_extra,
        )
        self.config_path.write_text(text)
        self.config_path.chmod(0o644)

    def _write_passwd(self, user: str) -> None:
        path = self.passwd_dir / user
        line = f"{user}:{{PLAIN}}{self._users[user]}::::::\n"
        old = path.stat() if path.exists() else None
        tmp = path.with_name(f".{user}.tmp")
        tmp.write_text(line)
        tmp.chmod(0o644)  # read by the auth process (user "dovecot")
        if old is not None and old.st_size == len(line.encode()):
            # Dovecot re-reads the file when its mtime (seconds) or size
            # changes: make sure a same-size rewrite moves the mtime.
            stamp = max(time.time(), old.st_mtime + 1.0)
            os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)

    # -- lifecycle

    @property
    def pid(self) -> int | None:
        """PID of the master process while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def is_running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        """Start the master and wait until the IMAP port greets."""
        with self._lock:
            if self.is_running:
                return
            self._reap()
            attempts = 1 if self._fixed_port else 3
            for attempt in range(attempts):
                try:
                    self._start_once()
                    return
                except _PortInUseError:
                    if attempt == attempts - 1:
                        raise
                    self.port = free_port(self.host)
                    self._write_config()

    def _start_once(self) -> None:
        began = time.monotonic()
        with contextlib.suppress(FileNotFoundError):
            self.stderr_path.unlink()
        with (
            open(os.devnull, "rb") as devnull,
            open(self.stderr_path, "wb") as err,
        ):
            # Never inherit the test's stdout/stderr (pitfall 12); own process
            # group so that every dovecot process can be found and killed.
            self._proc = subprocess.Popen(
                [self.dovecot_bin, "-F", "-c", str(self.config_path)],
                stdin=devnull,
                stdout=err,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        deadline = began + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                self._reap()
                output = self._diagnostics()
                if "Address already in use" in output:
                    raise _PortInUseError(output)
                raise RuntimeError(f"dovecot exited during start-up.\n{output}")
            if self._greets():
                self.startup_seconds = time.monotonic() - began
                return
            if time.monotonic() >= deadline:
                self._kill_group()
                raise RuntimeError(
                    f"dovecot did not accept IMAP connections on {self.host}:{self.port} "
                    f"within {self.start_timeout:.0f} s.\n{self._diagnostics()}"
                )
            time.sleep(0.02)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as s:
                s.settimeout(2)
                # Our own greeting: not some other server that got the port.
                return self._instance.encode() in s.recv(256)
        except OSError:
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """``doveadm stop``, then assert the master and all its processes exited.

        The master exits after about 1 s (it sleeps 1 s after telling its log
        process to quit). Dovecot 2.3 then lets a logged-in IMAP session live
        on until it has been idle for 10 s; those left-overs (and their log
        and stats processes) get SIGTERM, which ends them at once with
        ``* BYE Server shutting down.``: clients see the connection close, as
        after a real restart. Anything still alive after ``timeout`` is
        SIGKILLed and an AssertionError raised (a hang at shutdown is a bug
        worth seeing).
        """
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is not None:
                self._reap()
                return
            pgid = proc.pid
            # doveadm polls until the master PID is gone; the master is our
            # child, so reap it meanwhile or doveadm waits on the zombie.
            doveadm = subprocess.Popen(
                [self.doveadm_bin, "-c", str(self.config_path), "stop"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + timeout
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
            try:
                doveadm.wait(5)
            except subprocess.TimeoutExpired:
                doveadm.kill()
                doveadm.wait()
            left: list[int] = []
            if proc.poll() is not None:
                lingering = _group_pids(pgid)
                for pid in lingering:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                left = _wait_gone(lingering, max(deadline - time.monotonic(), 1.0))
            if proc.poll() is None or left:
                self._kill_group()
                self._proc = None
                raise AssertionError(
                    f"dovecot (master pid {pgid}) did not stop within {timeout:.0f} s "
                    f"after `doveadm stop`; SIGKILLed master and/or {left}.\n"
                    f"{self._diagnostics()}"
                )
            self._proc = None

    def kill(self) -> None:
        """SIGKILL the master and every process it started: the server crashed.

        Open IMAP connections are cut (EOF) and the port refuses new ones.
        (SIGKILLing only the master would leave logged-in sessions served
        until they log out.) Mail on disk is kept; :meth:`start` or
        :meth:`ensure_running` brings the server back on the same port.
        """
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            self._kill_group()
            left = _group_pids(proc.pid)
            self._proc = None
            if left:
                raise AssertionError(f"dovecot processes {left} survived SIGKILL")

    def restart(self) -> None:
        """Stop and start again on the same port; users and mail are kept."""
        with self._lock:
            self.stop()
            self._fixed_port = True
            self.start()

    def ensure_running(self) -> None:
        """Start the server again if a test stopped or killed it."""
        with self._lock:
            if not self.is_running:
                self._fixed_port = True
                self.start()

    def close(self) -> None:
        """Stop (asserting a clean exit) and delete the temp dir if we made it."""
        try:
            self.stop()
        finally:
            if self._own_root:
                shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _kill_group(self) -> None:
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        _wait_gone(_group_pids(proc.pid), 5.0)

    def _reap(self) -> None:
        """Forget a master that already exited, after its children are gone too."""
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            if _wait_gone(_group_pids(proc.pid), 10.0):
                self._kill_group()
            self._proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _diagnostics(self) -> str:
        parts = []
        with contextlib.suppress(OSError):
            out = self.stderr_path.read_text(errors="replace").strip()
            if out:
                parts.append(f"--- dovecot stdout/stderr ---\n{out}")
        tail = self.log_tail()
        if tail:
            parts.append(f"--- {self.log_path} (tail) ---\n{tail}")
        return "\n".join(parts) or "(no output)"

    # -- users and mail

    def add_user(self, name: str, password: str, *, timeout: float = 5.0) -> MailboxUser:
        """Add a user, or change its password; usable as soon as this returns.

        A new user is seen at once. A password change can take Dovecot up to
        a second to notice; while the server runs this waits (up to
        ``timeout``) until the new password logs in.
        """
        if not name or name.startswith(".") or set(name) - _USERNAME_CHARS:
            raise ValueError(f"user name {name!r} must use only {''.join(sorted(_USERNAME_CHARS))}")
        if not password or any(c in password for c in ":\r\n\0"):
            raise ValueError(f"password {password!r} cannot be stored in a passwd-file")
        with self._lock:
            changed = self._users.get(name, password) != password
            self._users[name] = password
            self._write_passwd(name)
            if changed and self.is_running:
                self._await_login(name, timeout)
        return MailboxUser(self, name, password)

    def _await_login(self, user: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect(user, timeout=timeout):
                    return
            except LoginError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def new_user(self) -> MailboxUser:
        """Add a user with a unique name (``user-<hex>@example.test``) and random password."""
        return self.add_user(f"user-{uuid.uuid4().hex[:12]}@example.test", secrets.token_hex(8))

    def password(self, user: str) -> str:
        return self._users[user]

    def connect(
        self, user: str, password: str | None = None, *, timeout: float = 10.0
    ) -> IMAPClient:
        """A new IMAPClient logged in as ``user`` (with its current password by default)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, self._users[user] if password is None else password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[bytes | str] = (),
        msg_time: datetime | None = None,
    ) -> int:
        """APPEND ``raw`` to ``folder`` (created if missing); return its UID."""
        with self.connect(user) as client:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags), msg_time=msg_time)
        match = re.search(rb"\[APPENDUID \d+ (\d+)\]", response)
        if match is None:
            raise AssertionError(f"no APPENDUID in {response!r}")
        return int(match.group(1))

    def _status(self, user: str, folder: str, item: bytes) -> int:
        with self.connect(user) as client:
            value: int = client.folder_status(folder, [item])[item]
            return value

    def count(self, user: str, folder: str = "INBOX") -> int:
        """Number of messages in ``folder`` (STATUS MESSAGES)."""
        return self._status(user, folder, b"MESSAGES")

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """UIDVALIDITY of ``folder`` (STATUS UIDVALIDITY)."""
        return self._status(user, folder, b"UIDVALIDITY")

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Give ``folder`` a new, higher UIDVALIDITY, keeping its messages.

        Uses ``doveadm mailbox update --uid-validity``. Return the new value.
        """
        old = self.uidvalidity(user, folder)
        new = max(old + 1, int(time.time()))
        self.doveadm("mailbox", "update", "--uid-validity", str(new), "-u", user, folder)
        current = self.uidvalidity(user, folder)
        if current != new:
            raise AssertionError(f"UIDVALIDITY of {user}/{folder} is {current}, wanted {new}")
        return new

    def doveadm(self, *args: str, timeout: float = 30.0) -> str:
        """Run ``doveadm -c CONF ARGS...``; return stdout, raise with stderr on failure."""
        done = subprocess.run(
            [self.doveadm_bin, "-c", str(self.config_path), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"doveadm {' '.join(args)} failed ({done.returncode}): "
                f"{done.stderr.decode(errors='replace').strip()}"
            )
        return done.stdout.decode(errors="replace")


class _PortInUseError(RuntimeError):
    pass


# ----------------------------------------------------------------- SMTP sink


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the sink accepted.

    ``data`` is exactly what the client sent between DATA and the final dot
    (dot-unstuffed, CRLF line ends kept, 8-bit bytes untouched).
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...]
    rcpt_options: tuple[str, ...]

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        return self._sink._record(envelope)


class SmtpSink:
    """An SMTP server on 127.0.0.1 that records what it receives.

    SMTPUTF8 and 8BITMIME are offered, data is kept as bytes
    (``decode_data=False``). With ``credentials=(user, password)`` AUTH
    PLAIN/LOGIN is required (over plain TCP; it is loopback).
    """

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int | None = None,
        *,
        credentials: tuple[str, str] | None = None,
        server_hostname: str = "smtp-sink.test",
    ) -> None:
        self.host = host
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port(host)
        self.credentials = credentials
        self.server_hostname = server_hostname
        self._cond = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._rejected: list[tuple[ReceivedMessage, str]] = []
        self._failures: list[str] = []
        self._controller: Controller | None = None

    # -- lifecycle

    def start(self) -> None:
        if self._controller is not None:
            return
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            controller = Controller(
                _SinkHandler(self),
                hostname=self.host,
                port=self.port,
                server_hostname=self.server_hostname,  # no slow getfqdn()
                ready_timeout=10.0,
                decode_data=False,
                enable_SMTPUTF8=True,
                **self._auth_kwargs(),
            )
            try:
                controller.start()
            except OSError:
                if attempt == attempts - 1:
                    raise
                self.port = free_port(self.host)
                continue
            self._controller = controller
            return

    def _auth_kwargs(self) -> dict[str, Any]:
        if self.credentials is None:
            return {}
        from aiosmtpd.smtp import AuthResult, LoginPassword

        want_user, want_password = self.credentials

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == want_user
                and data.password.decode() == want_password
            )
            return AuthResult(success=ok, handled=False)

        return {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}

    def stop(self) -> None:
        """Stop the server and assert its thread ended."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        thread = controller._thread
        controller.stop()
        if thread is not None:
            thread.join(10)
            assert not thread.is_alive(), "aiosmtpd controller thread did not exit"

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour

    def fail_next(self, n: int = 1, code: int = 451, message: str | None = None) -> None:
        """Answer DATA of the next ``n`` messages with ``code`` instead of 250.

        4xx codes are temporary (a client should retry), 5xx permanent.
        Rejected messages are not in :attr:`messages` but in :attr:`rejected`.
        """
        if not 400 <= code <= 599:
            raise ValueError("code must be a 4xx or 5xx SMTP reply code")
        if message is None:
            message = (
                "4.3.0 Temporary failure (SmtpSink.fail_next)"
                if code < 500
                else "5.3.0 Permanent failure (SmtpSink.fail_next)"
            )
        with self._cond:
            self._failures.extend([f"{code} {message}"] * n)

    def _record(self, envelope: Any) -> str:
        received = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(envelope.original_content),
            mail_options=tuple(envelope.mail_options),
            rcpt_options=tuple(envelope.rcpt_options),
        )
        with self._cond:
            if self._failures:
                reply = self._failures.pop(0)
                self._rejected.append((received, reply))
                self._cond.notify_all()
                return reply
            self._messages.append(received)
            self._cond.notify_all()
        return "250 2.0.0 OK: queued"

    # -- inspection

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Accepted messages, oldest first (a copy)."""
        with self._cond:
            return list(self._messages)

    @property
    def rejected(self) -> list[tuple[ReceivedMessage, str]]:
        """Messages refused by :meth:`fail_next`, with the reply sent."""
        with self._cond:
            return list(self._rejected)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages were accepted; return them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"SMTP sink got {len(self._messages)} message(s) in {timeout} s, "
                    f"expected {count}"
                )
            return list(self._messages)

    def clear(self) -> None:
        """Forget received and rejected messages and pending failures."""
        with self._cond:
            self._messages.clear()
            self._rejected.clear()
            self._failures.clear()

    def __iter__(self) -> Iterator[ReceivedMessage]:
        return iter(self.messages)
