"""Start and stop private Dovecot IMAP and PostgreSQL instances on 127.0.0.1 for the tests."""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, Self

import psycopg
from imapclient import IMAPClient
from psycopg import sql

HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # a safety net for a loaded machine; Dovecot starts in ~0.1 s
# Dovecot keeps UNIX sockets under base_dir and Linux caps their paths at 108 bytes, so the
# instance lives in a short directory directly under /tmp, which every user can traverse.
SHORT_TMP = "/tmp"
PG_VERSIONS = ("15", "16", "17", "14", "13")

Security = Literal["none", "starttls", "tls"]  # the values of intake's mailbox "security" key


class ServerUnavailable(RuntimeError):
    """A test server could not be started or used; the message says why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _is_root() -> bool:
    return os.geteuid() == 0


def _which(name: str) -> str | None:
    # Developers rarely have /usr/sbin on PATH, but that is where Debian puts dovecot.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log at {path})"


def _run(cmd: Sequence[str], what: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerUnavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()
        raise ServerUnavailable(f"{what} failed (exit {done.returncode}): {output}")
    return done.stdout


def _mkdtemp(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=SHORT_TMP))


class _Server:
    """``with Server() as s``: started on entry; stopped, with its files deleted, on exit."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------- Dovecot

_DOVECOT_CONF = """\
# A private Dovecot for intake's tests; written by tests/servers.py.
instance_name = {instance}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = imap
listen = {host}
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
auth_mechanisms = {mechanisms}
disable_plaintext_auth = no
# The fields of each client's ID command go to the log (tests check what intake sends).
imap_id_log = *
{capability}
first_valid_uid = 1
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
{mail_owner}
mail_home = {dir}/mail/%u
mail_location = maildir:~
mail_fsync = never
# A wrong password must not slow every later login from 127.0.0.1 by 2-15 s (the "auth penalty"):
# mode 0 leaves out anvil's auth-penalty socket, and the auth process runs without penalties.
# Failures are still answered on a 0.5 s timer.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
{anvil_chroot}}}
# One passwd-file per user: Dovecot re-reads a changed passwd-file at most once a second, but a
# path it has never seen is read at once, so a user added a moment ago can log in immediately.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users/%u
}}
{oauth_passdb}
userdb {{
  driver = passwd-file
  args = {dir}/users/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
  mailbox Failed {{
    auto = create
  }}
}}
protocol imap {{
  # Tests open many short sessions per user; the default cap of 10 would refuse some.
  mail_max_userip_connections = 200
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
{login_chroot}}}
"""

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


class Dovecot(_Server):
    """A private Dovecot (maildir, passwd-file users) listening on two free ports of 127.0.0.1.

    ``port`` speaks plain IMAP with STARTTLS, ``tls_port`` implicit TLS; ``ca_file`` is the
    self-signed certificate to trust. ``stop``/``start`` keep ports and mail, so a daemon under
    test can reconnect after a ``restart``.
    """

    host = HOST

    def __init__(
        self,
        *,
        capability: str = "",
        oauth_introspection_url: str = "",
        oauth_mechanisms: str = "xoauth2 oauthbearer",
    ) -> None:
        """``capability`` replaces the advertised CAPABILITY list (``imap_capability``);
        ``oauth_introspection_url`` turns on XOAUTH2 and OAUTHBEARER, checked by POSTing each
        token to that URL (Dovecot's oauth2 passdb, RFC 7662 introspection)."""
        self._capability = capability
        self._oauth_url = oauth_introspection_url
        self._oauth_mechanisms = oauth_mechanisms
        binary = _which("dovecot")
        if binary is None:
            raise ServerUnavailable("dovecot is not installed (apt-get install dovecot-imapd)")
        self._binary = binary
        self.dir = _mkdtemp("idc-")
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = self.dir / "cert.pem"
        self.log_file = self.dir / "dovecot.log"
        self._conf = self.dir / "dovecot.conf"
        self._users: dict[str, str] = {}
        self._serial = itertools.count(1)
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            self._setup()
            self._probe = self.add_user("probe")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    # ------------------------------------------------------------------ lifecycle

    def _setup(self) -> None:
        self.dir.chmod(0o755)  # the login, auth and mail processes run as other users
        (self.dir / "mail").mkdir()
        (self.dir / "users").mkdir()
        if _is_root():
            # Dovecot refuses to touch mail as uid 0, so mail belongs to nobody.
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir / "mail", nobody.pw_uid, nobody.pw_gid)
            owner = f"mail_uid = {nobody.pw_uid}\nmail_gid = {nobody.pw_gid}"
            internal_user, internal_group, login_user = "dovecot", "dovecot", "dovenull"
            login_chroot = anvil_chroot = ""
        else:
            # Unprivileged, every process runs as us and none can chroot.
            owner = ""
            internal_user = login_user = pwd.getpwuid(os.geteuid()).pw_name
            internal_group = grp.getgrgid(os.getegid()).gr_name
            login_chroot = anvil_chroot = "  chroot =\n"
        oauth_passdb = ""
        mechanisms = "plain login"
        if self._oauth_url:
            mechanisms += f" {self._oauth_mechanisms}"
            args = self.dir / "oauth2.conf.ext"
            args.write_text(
                f"introspection_url = {self._oauth_url}\n"
                "introspection_mode = post\n"
                "username_attribute = email\n"
                "active_attribute = active\n"
                "active_value = true\n",
                encoding="utf-8",
            )
            args.chmod(0o644)
            oauth_passdb = (
                f"passdb {{\n  driver = oauth2\n  mechanisms = {self._oauth_mechanisms}\n"
                f"  args = {args}\n}}"
            )
        self._conf.write_text(
            _DOVECOT_CONF.format(
                mechanisms=mechanisms,
                capability=f"imap_capability = {self._capability}" if self._capability else "",
                oauth_passdb=oauth_passdb,
                instance=f"intake-test-{self.dir.name}",
                dir=self.dir,
                host=self.host,
                port=self.port,
                tls_port=self.tls_port,
                internal_user=internal_user,
                internal_group=internal_group,
                login_user=login_user,
                mail_owner=owner,
                login_chroot=login_chroot,
                anvil_chroot=anvil_chroot,
            ),
            encoding="utf-8",
        )
        _run(
            [
                "openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(self.dir / "key.pem"), "-out", str(self.ca_file),
            ],
            "openssl req (test certificate)",
        )  # fmt: skip
        (self.dir / "key.pem").chmod(0o600)

    def start(self) -> None:
        """Start the master and wait until a LOGIN + SELECT works."""
        if self._proc is not None:
            return
        # Foreground (-F) under our own Popen: no daemon to find later, and its stdio goes to a
        # file, so nothing inherits a pipe of ours.
        with open(self.dir / "master.out", "ab") as out:
            self._proc = subprocess.Popen(
                [self._binary, "-F", "-c", str(self._conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                raise ServerUnavailable(self._failure("dovecot exited during start-up", None))
            try:
                # The first greeting may be "Waiting for authentication process to respond":
                # only a LOGIN + SELECT proves the whole chain (login, auth, imap, mail) works.
                with self.client(*self._probe) as probe:
                    probe.select_folder("INBOX", readonly=True)
                return
            except Exception as exc:  # any failure here just means "not yet"
                last = exc
                time.sleep(0.02)
        self.stop()
        raise ServerUnavailable(self._failure(f"dovecot not ready in {START_TIMEOUT:.0f} s", last))

    def _failure(self, what: str, exc: Exception | None) -> str:
        reason = f" (last error: {exc!r})" if exc is not None else ""
        output = _tail(self.dir / "master.out", 10)
        return f"{what}{reason}\n--- {self.log_file}\n{_tail(self.log_file)}\n--- stdout\n{output}"

    def stop(self) -> None:
        """Stop the master and its children; mail, users and ports are kept."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and delete every file of this instance."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ users and mail

    def add_user(self, prefix: str = "u") -> tuple[str, str]:
        """A new user with an empty mailbox: (name, password)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]+", prefix):
            raise ValueError(f"user prefix must be letters, digits, _ or -: {prefix!r}")
        user = f"{prefix}{next(self._serial)}"
        password = secrets.token_hex(8)
        self._users[user] = password
        # Written aside and renamed so the auth process never reads half a line.
        path = self.dir / "users" / user
        new = path.with_name(f".new-{user}")
        new.write_text(f"{user}:{password}::::::\n", encoding="utf-8")
        if _is_root():
            os.chown(new, 0, grp.getgrnam("dovecot").gr_gid)
        new.chmod(0o640)
        new.replace(path)
        return user, password

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only this server's certificate."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, user: str, password: str, security: Security = "none") -> IMAPClient:
        """A logged-in session, the certificate verified for "starttls" and "tls"; the caller
        logs out (use it in a ``with``)."""
        tls = security == "tls"
        imap = IMAPClient(
            self.host,
            port=self.tls_port if tls else self.port,
            ssl=tls,
            ssl_context=self.ssl_context() if tls else None,
            timeout=10,
        )
        quiet(imap)
        try:
            if security == "starttls":
                imap.starttls(self.ssl_context())
            imap.login(user, password)
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def append(
        self, user: str, password: str, folder: str, raw: bytes, flags: Iterable[str] = ()
    ) -> int:
        """Store ``raw`` in ``folder`` and return its UID (from the UIDPLUS APPENDUID code)."""
        with self.client(user, password) as imap:
            answer = imap.append(folder, raw, flags=tuple(flags))
        found = _APPENDUID.search(answer)
        if found is None:
            raise ServerUnavailable(f"APPEND answered without APPENDUID: {answer!r}")
        return int(found.group(2))

    def log_text(self) -> str:
        """Everything this instance has logged so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def folders(self, user: str) -> list[str]:
        """The user's folder names as stored on disk: maildir's modified UTF-7, e.g.
        ``.&XfJT0ZAB-`` for 已处理 (what crosses the wire)."""
        home = self.dir / "mail" / user
        return sorted(p.name[1:] for p in home.iterdir() if p.name.startswith(".") and p.is_dir())

    def uids(self, user: str, password: str, folder: str) -> list[int]:
        """Every UID in ``folder``, ascending."""
        with self.client(user, password) as imap:
            imap.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in imap.search("ALL"))

    def uidvalidity(self, user: str, folder: str) -> int:
        """The UIDVALIDITY the server reports for ``folder`` now."""
        with self.client(user, self._users[user]) as imap:
            return int(imap.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def penalties(self) -> list[str]:
        """The IPs anvil holds an auth penalty against (``doveadm penalty``): each would delay
        that IP's next logins by seconds."""
        doveadm = _which("doveadm")
        if doveadm is None:
            raise ServerUnavailable("doveadm is not installed (it comes with dovecot-core)")
        lines = _run([doveadm, "-c", str(self._conf), "penalty"], "doveadm penalty").splitlines()
        return [line.split()[0] for line in lines[1:] if line.strip()]

    def change_uidvalidity(self, user: str, folder: str) -> int:
        """Give ``folder`` a new, larger UIDVALIDITY while the server runs; return it.

        The messages stay, with the same UIDs, which a client must now treat as unknown. A
        session that has the folder selected is disconnected at its next command ("IMAP session
        state is inconsistent"); one sitting in IDLE notices nothing until then.
        """
        new = self.uidvalidity(user, folder) + 1
        doveadm = _which("doveadm")
        if doveadm is None:
            raise ServerUnavailable("doveadm is not installed (it comes with dovecot-core)")
        _run(
            [doveadm, "-c", str(self._conf), "mailbox", "update", "-u", user,
             "--uid-validity", str(new), folder],
            f"doveadm mailbox update {user} {folder}",
        )  # fmt: skip
        got = self.uidvalidity(user, folder)
        if got != new:
            raise ServerUnavailable(f"UIDVALIDITY of {user}/{folder} is {got}, wanted {new}")
        return new


def quiet(imap: IMAPClient) -> None:
    """Undo imapclient's imaplib debug level 5, which formats every response (bodies included)
    even with logging off: FETCH is 5-6x slower and peak memory doubles."""
    imap._imap.debug = 0


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path | None:
    override = os.environ.get("INTAKE_TEST_PG_BIN")
    candidates = [Path(override)] if override else []
    candidates += [Path(f"/usr/lib/postgresql/{v}/bin") for v in PG_VERSIONS]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    return next((c for c in candidates if (c / "initdb").is_file()), None)


class Postgres(_Server):
    """A throwaway PostgreSQL cluster (fsync off, trust auth) on a free port of 127.0.0.1."""

    host = HOST

    def __init__(self) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            raise ServerUnavailable("PostgreSQL not found (apt-get install postgresql-15)")
        self._bin = bindir
        self.dir = _mkdtemp("ipg-")
        self.port = free_port()
        self.log_file = self.dir / "postgres.log"
        self._data = self.dir / "data"
        self._serial = itertools.count(1)
        self._running = False
        if _is_root():
            # initdb refuses root; the cluster belongs to the postgres user.
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self._as = []

    def _pg(self, tool: str, *args: str) -> str:
        return _run([*self._as, str(self._bin / tool), *args], tool, cwd=self.dir)

    def start(self) -> None:
        if self._running:
            return
        if not (self._data / "PG_VERSION").exists():
            self._pg(
                "initdb", "-D", str(self._data), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        options = (
            f"-c listen_addresses={self.host} -p {self.port} -c unix_socket_directories={self.dir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            self._pg("pg_ctl", "-D", str(self._data), "-l", str(self.log_file), "-w", "-t",
                     str(int(START_TIMEOUT)), "-o", options, "start")  # fmt: skip
        except ServerUnavailable as exc:
            raise ServerUnavailable(f"{exc}\n--- {self.log_file}\n{_tail(self.log_file)}") from None
        self._running = True

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self._pg("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        """Stop and delete the cluster."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url_for(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty, uniquely named database and return its SQLAlchemy URL."""
        name = f"t{next(self._serial)}_{secrets.token_hex(3)}"
        with psycopg.connect(
            host=self.host, port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)


# --------------------------------------------------------------------------- test data


def find_cpython_email_data() -> Path | None:
    """CPython's own email test messages (msg_01.txt ...) for the running interpreter, if
    installed (Debian's system Python needs libpython3.11-testsuite)."""
    with contextlib.suppress(KeyError):
        data = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
        if (data / "msg_01.txt").is_file():
            return data
    return None
