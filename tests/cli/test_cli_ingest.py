"""The ingest CLI end to end: db upgrade, check, poll, messages, quarantine, reprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake.cli import cli, main
from tests.helpers import nested
from tests.servers import Dovecot

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, dovecot: Dovecot, account: tuple[str, str], db_url: str) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[storage]
path = "{tmp_path / "store"}"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.tls_port}
security = "tls"
ca_file = "{dovecot.ca_file}"
username = "{account[0]}"
password = "{account[1]}"
timeout = 10.0
[site]
domains = ["news.example"]
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> tuple[int, str, str]:
    """Run the real console entry point in-process, as a user would call it."""
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str], db_url: str) -> Path:
    path = write_config(tmp_path, dovecot, imap_account, db_url)
    assert run(path, "db", "upgrade")[0] == 0
    return path


def test_real_world_mail_is_ingested_once_with_the_right_kind(
    config: Path, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    files = sorted((DATA / "mail").glob("*.eml")) + sorted((DATA / "classify").glob("*.eml"))
    files += sorted((DATA / "mail" / "bounces").glob("*.eml"))
    for path in files:
        dovecot.append(*imap_account, "INBOX", path.read_bytes())
    dovecot.append(*imap_account, "INBOX", nested(80))
    code, out, _ = run(config, "poll", "--json")
    assert code == 0
    counts = json.loads(out)
    assert set(counts) == {"fetched", "new", "duplicates", "quarantined", "ignored"}
    assert counts["fetched"] == len(files) + 1
    assert counts["quarantined"] == 1

    code, out, _ = run(config, "messages", "--json")
    rows = json.loads(out)
    assert len(rows) == len(files) + 1
    assert len({r["sha256"] for r in rows}) == len(rows)
    assert {
        "id", "mailbox", "uidvalidity", "uid", "message_id", "sha256", "kind", "reason",
        "submission_id",
    } <= set(rows[0])  # fmt: skip
    by_subject = {r["subject"]: r for r in rows}
    kinds = {r["kind"] for r in rows}
    assert {"submission", "bounce", "autoreply", "list", "spam", "quarantined"} <= kinds
    assert all(r["reason"] for r in rows)

    code, out, _ = run(config, "list", "--json", "--limit", "500")
    submissions = json.loads(out)
    assert submissions and all(s["status"] == "received" for s in submissions)
    for item in submissions:
        code, out, _ = run(config, "show", str(item["id"]), "--json")
        detail = json.loads(out)
        assert "\ufffd" not in detail["subject"] + detail["text"], detail["subject"]
    assert by_subject  # subjects decoded

    # Nothing new on a second pass, and the server's INBOX is empty.
    code, out, _ = run(config, "poll", "--json")
    assert json.loads(out)["fetched"] == 0
    assert dovecot.uids(*imap_account, "INBOX") == []


def test_quarantine_and_reprocess(
    config: Path, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    dovecot.append(*imap_account, "INBOX", nested(80))
    dovecot.append(*imap_account, "INBOX", (DATA / "mail" / "qqmail_gb18030.eml").read_bytes())
    code, out, _ = run(config, "poll", "--json")
    assert json.loads(out)["quarantined"] == 1 and json.loads(out)["new"] == 1
    code, out, _ = run(config, "quarantine", "--json")
    (bad,) = json.loads(out)
    assert "nest" in bad["reason"]
    code, out, err = run(config, "reprocess", str(bad["id"]))
    assert code == 1 and "quarantined" in out
    code, out, _ = run(config, "quarantine", "--json")
    assert json.loads(out)[0]["attempts"] == 1
    code, _, err = run(config, "reprocess", "999999")
    assert code == 1 and "no message with id 999999" in err


def test_check_reports_each_part(config: Path) -> None:
    code, out, _ = run(config, "check")
    assert code == 0
    assert "imap submissions: ok" in out
    assert "database: ok" in out
    # The suite's machine has a CJK font (scripts/test installs one); without it this says
    # which package to install.
    assert "documents: ok" in out


def test_errors_are_one_line(
    tmp_path: Path, dovecot: Dovecot, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\nurl = "sqlite:///x.db"\nbogus = 1\n')
    with pytest.raises(SystemExit) as info:
        main(["--config", str(bad), "list"])
    assert info.value.code == 2
    assert capsys.readouterr().err == "intake: database.bogus: unknown key\n"

    config = write_config(
        tmp_path, dovecot, ("nobody", "wrong-password"), f"sqlite:///{tmp_path}/x.db"
    )
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "list"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("intake: ") and err.count("\n") == 1 and "db upgrade" in err

    main_ok = ["--config", str(config), "db", "upgrade"]
    with pytest.raises(SystemExit) as info:
        main(main_ok)
    assert info.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["--config", str(config), "poll"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "login failed for nobody at 127.0.0.1: [AUTHENTICATIONFAILED]" in err
    assert "wrong-password" not in err and err.count("\n") == 1


def test_real_subprocess_poll(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    config = write_config(tmp_path, dovecot, imap_account, f"sqlite:///{tmp_path}/intake.db")
    intake = [sys.executable, "-m", "intake", "--config", str(config)]
    subprocess.run([*intake, "db", "upgrade"], check=True, capture_output=True, cwd=ROOT)
    dovecot.append(*imap_account, "INBOX", (DATA / "mail" / "foxmail_gb2312_gbk.eml").read_bytes())
    done = subprocess.run([*intake, "poll", "--json"], check=True, capture_output=True, cwd=ROOT)
    assert json.loads(done.stdout)["new"] == 1
    assert done.stderr == b""
    done = subprocess.run([*intake, "list"], check=True, capture_output=True, cwd=ROOT)
    assert "foxmail" in done.stdout.decode() or "received" in done.stdout.decode()
