"""The permission model of docs/operations.md, for real: a service user creates the database
and the store with the unit's umask; an editor who is only a member of the service's group
lists, reads raw mail, exports and writes notes, and cannot read the mail password."""

from __future__ import annotations

import grp
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.helpers import submission
from tests.servers import Dovecot

#: The unit's UMask= (config/intake.service).
SERVICE_UMASK = "0027"


@dataclass
class Machine:
    root: Path
    group: str
    service: str
    staff: str
    outsider: str
    config: Path

    def run(self, user: str, *args: str, umask: str = "0022") -> subprocess.CompletedProcess[str]:
        command = [
            "runuser", "-u", user, "--", "sh", "-c", f'umask {umask}; exec "$@"', "sh",
            "env", "PYTHONDONTWRITEBYTECODE=1", f"HOME={self.root}", f"INTAKE_CONFIG={self.config}",
            *intake_command(), *args,
        ]  # fmt: skip
        return subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip


def intake_command() -> list[str]:
    """``intake`` for another user: this interpreter if they can run it (an /opt/intake venv
    made from the system Python, as documented), else the system Python of the same version
    (a developer's pyenv under /root is private), with this environment's packages added."""
    site = sysconfig.get_paths()["purelib"]
    boot = f"import site, sys; site.addsitedir({site!r}); from intake.__main__ import main; main()"
    python = Path(sys.executable).resolve()
    if not all(os.stat(p).st_mode & 0o001 for p in python.parents):
        python = Path(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}")
    return [str(python), "-c", boot]


def _sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture
def machine(dovecot: Dovecot) -> Iterator[Machine]:
    if os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("runuser") is None:
        unavailable("the permission test creates users: it needs root, useradd and runuser")
    tag = secrets.token_hex(3)
    group, service, staff = f"itk{tag}", f"itksvc{tag}", f"itked{tag}"
    outsider = f"itkout{tag}"  # an editor not (yet) in the group
    root = Path(tempfile.mkdtemp(prefix="itk-", dir="/tmp"))
    root.chmod(0o755)
    try:
        # docs/operations.md, "Install" and "Permissions", with this machine's names.
        _sh("groupadd", "--system", group)
        _sh("useradd", "--system", "--gid", group, "--no-create-home", "--shell",
            "/usr/sbin/nologin", service)  # fmt: skip
        _sh("useradd", "--no-create-home", "--shell", "/bin/sh", "--groups", group, staff)
        _sh("useradd", "--no-create-home", "--shell", "/bin/sh", outsider)
        etc, state, credentials = root / "etc", root / "state", root / "credentials"
        _sh("install", "-d", "-m", "0750", "-g", group, str(etc))
        _sh("install", "-d", "-m", "2770", "-o", service, "-g", group, str(state))
        # What systemd's LoadCredential= gives the service alone.
        _sh("install", "-d", "-m", "0700", "-o", service, str(credentials))
        account = dovecot.add_user("staffperm")
        (credentials / "imap-password").write_text(account[1])
        _sh("chown", service, str(credentials / "imap-password"))
        (credentials / "imap-password").chmod(0o600)
        config = etc / "intake.toml"
        config.write_text(
            f"""[database]
url = "sqlite:///{state}/intake.db"
[storage]
path = "{state}/store"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{account[0]}"
password_file = "{credentials}/imap-password"
""",
            encoding="utf-8",
        )
        _sh("chown", f"root:{group}", str(config))
        config.chmod(0o640)
        dovecot.append(*account, "INBOX", submission(
            attachments=[("稿件.txt", "text/plain", "春天的故事\n".encode())]))  # fmt: skip
        yield Machine(root, group, service, staff, outsider, config)
    finally:
        for user in (staff, outsider, service):
            subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_an_editor_in_the_group_works_the_queue(machine: Machine) -> None:
    svc = machine.service
    for args in (("db", "upgrade"), ("poll", "--json")):
        done = machine.run(svc, *args, umask=SERVICE_UMASK)
        assert done.returncode == 0, done.stderr
    state = machine.root / "state"
    database = state / "intake.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o660
    stored = [p for p in (state / "store").rglob("*") if p.is_file()]
    assert stored and all(stat.S_IMODE(p.stat().st_mode) == 0o640 for p in stored)
    assert all(grp.getgrgid(p.stat().st_gid).gr_name == machine.group for p in stored)

    editor = machine.staff
    listed = machine.run(editor, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    raw = machine.run(editor, "show", str(row["id"]), "--raw")
    assert raw.returncode == 0, raw.stderr
    assert "投稿：《春天的故事》" in raw.stdout or "Subject:" in raw.stdout
    out = machine.root / "out"
    _sh("install", "-d", "-o", editor, str(out))
    exported = machine.run(editor, "export", str(row["id"]), "--to", str(out / "piece"))
    assert exported.returncode == 0, exported.stderr
    assert (out / "piece" / "稿件.txt").read_text(encoding="utf-8") == "春天的故事\n"
    noted = machine.run(editor, "note", str(row["id"]), "看过了，下周讨论")
    assert noted.returncode == 0, noted.stderr
    # The mail password stays the service's: an editor's poll is refused with the key named.
    polled = machine.run(editor, "poll")
    assert polled.returncode == 2
    assert "mailboxes[0].password_file: cannot read" in polled.stderr
    assert "Permission denied" in polled.stderr
    # And the service still works on what the editor's commands touched.
    again = machine.run(svc, "poll", "--json", umask=SERVICE_UMASK)
    assert again.returncode == 0, again.stderr


def test_a_user_outside_the_group_is_told_which_group_reads_the_config(machine: Machine) -> None:
    listed = machine.run(machine.outsider, "list")
    assert listed.returncode == 2
    assert listed.stderr.count("\n") == 1, listed.stderr  # one line, no traceback
    assert f"intake: config: {machine.config}: permission denied" in listed.stderr
    assert f"usermod -aG {machine.group} USER" in listed.stderr
