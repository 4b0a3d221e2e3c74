"""``intake export``: a submission to a folder editors can open, and the fee ledger (CSV, JSON).

Submissions for the folder export go through the real ingest (parser, extraction, captions,
blob store, database) from a message built here; the ledger reads rows written through the ORM
with ``add_submission`` of tests/cli/test_cli_queue.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, update

from intake.cli import main
from intake.core.config import ExtractConfig
from intake.core.mail import MessageRef, RawMail
from intake.documents.extract import count_words, extract
from intake.ingest.pipeline import Outcome
from intake.store.models import Attachment, Submission
from intake.submissions.exporting import LEDGER_COLUMNS, unique_names
from tests.cli.test_cli_queue import NOW, Env, add_submission, make_env
from tests.helpers import submission

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
DOCX = (DOCS / "article-zh-libreoffice.docx").read_bytes()
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: bytes
    stderr: str


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, db_url)
    yield made
    made.app.close()


@pytest.fixture
def sqlite_env(tmp_path: Path, sqlite_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, sqlite_url)
    yield made
    made.app.close()


def intake(env: Env, capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> Run:
    """Run the CLI's real entry point in this process: exit codes and one-line errors."""
    capsysbinary.readouterr()
    try:
        main(["--config", str(env.config), *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsysbinary.readouterr()
    return Run(code, out.out, out.err.decode())


def ingest(env: Env, raw: bytes, uid: int = 1) -> int:
    """The submission id the real ingest makes of ``raw``."""
    ref = MessageRef("submissions", "INBOX", 1, uid)
    assert env.app.ingestor.ingest(RawMail(ref, raw)) is Outcome.NEW
    with env.app.sessions() as session, session.begin():
        return max(session.scalars(select(Submission.id)))


def jpeg(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, "JPEG")
    return buf.getvalue()


def png(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- one submission

ATTACHMENTS = [
    ("春天里的老街.docx", DOCX_TYPE, DOCX),
    ("IMG_2031.jpg", "image/jpeg", jpeg("green")),
    ("image001.png", "image/png", png("red")),
    ("image001.png", "image/png", png("blue")),
    ("../../etc/passwd", "application/octet-stream", b"root:x:0:0\x00\x01"),
    ("metadata.json", "application/json", b'{"not": "ours"}'),
]


def test_export_round_trip(
    env: Env, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    raw = submission(
        body="编辑老师您好：\n稿件见附件，请查收。\n"
        "图1 IMG_2031.jpg：市民在公园晨练（张三 摄）\n张三",
        attachments=ATTACHMENTS,
    )
    sid = ingest(env, raw)
    target = tmp_path / "导出" / str(sid)
    done = intake(env, capsysbinary, "export", str(sid), "--to", str(target))
    assert done.code == 0, done.stderr
    assert done.stdout.decode().startswith(f"#{sid} exported to {target}")
    files = {p.name for p in target.iterdir()}
    assert files == {
        "article.txt", "cover_note.txt", "metadata.json", "春天里的老街.docx", "IMG_2031.jpg",
        "image001.png", "image001-2.png", "passwd", "metadata-2.json",
    }  # fmt: skip
    assert not (tmp_path / "etc").exists()

    # what was sent, byte for byte, and files an editor can open
    assert (target / "春天里的老街.docx").read_bytes() == DOCX
    with zipfile.ZipFile(target / "春天里的老街.docx") as docx:
        assert docx.testzip() is None
    with Image.open(target / "IMG_2031.jpg") as photo:
        assert photo.size == (32, 24)
    assert (target / "image001.png").read_bytes() == ATTACHMENTS[2][2]
    assert (target / "image001-2.png").read_bytes() == ATTACHMENTS[3][2]
    assert (target / "metadata-2.json").read_bytes() == b'{"not": "ours"}'

    with env.app.sessions() as session, session.begin():
        row = session.get(Submission, sid)
        assert row is not None
        article, chars, words = row.article_text, row.char_count, row.word_count
    expected = extract("a.docx", DOCX_TYPE, DOCX, ExtractConfig()).text
    assert article == expected and "王镕" in article
    assert (target / "article.txt").read_text(encoding="utf-8") == article + "\n"
    # The article came from the document: the mail's own words (the caption, the name) too.
    note = (target / "cover_note.txt").read_text(encoding="utf-8")
    assert note.startswith("编辑老师您好：") and "市民在公园晨练（张三 摄）" in note

    meta = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    assert {k: meta[k] for k in ("id", "status", "copyright_status", "sender", "sender_name")} == {
        "id": sid,
        "status": "received",
        "copyright_status": "not_requested",
        "sender": "zhangsan@qq.example",
        "sender_name": "张三",
    }
    assert meta["subject"] == "投稿：《春天的故事》" and meta["title"] == "春天的故事"
    assert meta["received_at"].endswith("+00:00")
    assert (meta["char_count"], meta["word_count"]) == (chars, words) == count_words(article)
    assert chars > 200
    assert meta["article_source"] == "春天里的老街.docx"
    assert meta["cover_note_file"] == "cover_note.txt"
    listed = meta["attachments"]
    assert [(a["filename"], a["file"]) for a in listed] == [
        ("春天里的老街.docx", "春天里的老街.docx"),
        ("IMG_2031.jpg", "IMG_2031.jpg"),
        ("image001.png", "image001.png"),
        ("image001.png", "image001-2.png"),
        ("../../etc/passwd", "passwd"),
        ("metadata.json", "metadata-2.json"),
    ]
    for item, (_, ctype, payload) in zip(listed, ATTACHMENTS, strict=True):
        assert item["content_type"] == ctype
        assert item["size"] == len(payload)
        assert item["sha256"] == hashlib.sha256(payload).hexdigest()
        assert hashlib.sha256((target / item["file"]).read_bytes()).hexdigest() == item["sha256"]
    assert [a["kind"] for a in listed] == ["document", "image", "image", "image", "other", "other"]
    assert listed[1]["meta"] == {
        "format": "jpeg",
        "width": 32,
        "height": 24,
        "caption": "市民在公园晨练（张三 摄）",
    }
    assert all(a["extract_error"] == "" for a in listed)


def test_non_empty_folder_is_refused_unless_forced(
    sqlite_env: Env, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    sid = ingest(sqlite_env, submission(attachments=[ATTACHMENTS[0]]))
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    done = intake(sqlite_env, capsysbinary, "export", str(sid), "--to", str(target))
    assert (done.code, done.stdout) == (1, b"")
    assert done.stderr == f"intake: {target}: not empty (--force writes into it anyway)\n"
    assert {p.name for p in target.iterdir()} == {"notes.txt"}
    done = intake(sqlite_env, capsysbinary, "export", str(sid), "--to", str(target), "--force")
    assert done.code == 0, done.stderr
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "春天里的老街.docx").read_bytes() == DOCX


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "4242", "--to", "{tmp}/x"], "intake: no submission with id 4242\n"),
        (["export", "1"], "intake: export ID needs --to DIR\n"),
        (["export", "--to", "{tmp}/x"], "intake: --to and --force need a submission ID"),
        (["export", "1", "--to", "{tmp}/x", "--status", "accepted"], "are for the ledger"),
        (["export", "1", "--to", "{tmp}/file"], "file: exists and is not a directory\n"),
    ],
)
def test_export_errors_are_one_line(
    sqlite_env: Env,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    args: list[str],
    message: str,
) -> None:
    ingest(sqlite_env, submission())
    (tmp_path / "file").write_text("")
    done = intake(sqlite_env, capsysbinary, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert done.code == 1
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_hostile_names_in_the_database_stay_inside_the_folder(
    sqlite_env: Env, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Rows from before safe names existed, or edited by hand: the export does not trust them.
    sid = ingest(sqlite_env, submission())
    names = ["../../outside.txt", "/etc/cron.d/evil", "..", "", "CON.txt", "a\x00b\x1b.txt",
             "sub/../../up.txt", "Image001.PNG", "image001.png", "article.txt"]  # fmt: skip
    with sqlite_env.app.sessions() as session, session.begin():
        for i, name in enumerate(names):
            sha, path = sqlite_env.app.blobs.put("att", f"file {i}".encode())
            session.add(
                Attachment(
                    message_pk=session.get(Submission, sid).message_pk,  # type: ignore[union-attr]
                    submission_id=sid, filename=name, safe_name=name, content_type="text/plain",
                    size=6, sha256=sha, blob_path=path,
                )
            )  # fmt: skip
    target = tmp_path / "deep" / "out"
    done = intake(sqlite_env, capsysbinary, "export", str(sid), "--to", str(target))
    assert done.code == 0, done.stderr
    written = sorted(p.name for p in target.iterdir())
    assert written == sorted([
        # the NUL never reached the database: it was stored as U+FFFD
        "outside.txt", "evil", "attachment", "attachment-2", "_CON.txt", "a\ufffdb.txt", "up.txt",
        "Image001.PNG", "image001-2.png", "article-2.txt", "article.txt", "metadata.json",
    ])  # fmt: skip
    assert all(p.is_file() for p in target.iterdir())
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "up.txt").exists()
    meta = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    # the originals, as metadata (as stored: the NUL as U+FFFD)
    assert [a["filename"] for a in meta["attachments"]] == [
        n.replace("\x00", "\ufffd") for n in names
    ]


def test_symbolic_link_in_a_forced_folder_is_not_followed(
    sqlite_env: Env, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    sid = ingest(sqlite_env, submission())
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out"
    target.mkdir()
    (target / "article.txt").symlink_to(victim)
    done = intake(sqlite_env, capsysbinary, "export", str(sid), "--to", str(target), "--force")
    assert done.code == 1
    assert done.stderr.startswith("intake: refusing to write")
    assert victim.read_text() == "precious"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["image001.png", "image001.png"], ["image001.png", "image001-2.png"]),
        (["a.png", "a.png", "a-2.png"], ["a.png", "a-2.png", "a-2-2.png"]),
        (["IMG.JPG", "img.jpg"], ["IMG.JPG", "img-2.jpg"]),  # Windows and macOS ignore case
        (["README", "README"], ["README", "README-2"]),
        (["article.txt", "Metadata.json"], ["article-2.txt", "Metadata-2.json"]),
        (["../../etc/passwd", "C:\\Users\\张三\\稿件.doc"], ["passwd", "稿件.doc"]),
        (["", ".", ".."], ["attachment", "attachment-2", "attachment-3"]),
    ],
)
def test_unique_names(names: list[str], expected: list[str]) -> None:
    assert unique_names(names, reserved=("article.txt", "metadata.json")) == expected


# --------------------------------------------------------------------------- the ledger


def _ledger_rows(env: Env) -> dict[str, int]:
    with env.app.sessions() as session, session.begin():
        ids = {
            "old": add_submission(session, status="accepted", received_at=NOW - timedelta(days=10),
                                  article="旧稿" * 50),
            "new": add_submission(session, status="accepted", sender="lisi@163.example",
                                  sender_name="李四", subject='=HYPERLINK("http://evil.example")',
                                  received_at=NOW - timedelta(days=1), article="新稿，一二三"),
            "open": add_submission(session, status="received", received_at=NOW),
            "published": add_submission(session, status="published",
                                        received_at=NOW - timedelta(days=2)),
        }  # fmt: skip
        session.execute(
            update(Submission)
            .where(Submission.id == ids["published"])
            .values(published_url="https://news.example/a/1")
        )
    return ids


def test_csv_ledger_for_excel(
    env: Env, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    ids = _ledger_rows(env)
    done = intake(env, capsysbinary, "export", "--status", "accepted", "--format", "csv")
    assert done.code == 0, done.stderr
    assert done.stdout.startswith(BOM)  # Excel reads UTF-8 only with it
    assert b"\r\n" in done.stdout
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(LEDGER_COLUMNS)
    assert rows[0][:7] == [
        "id", "sender", "subject", "received_at", "status", "copyright_status", "char_count",
    ]  # fmt: skip
    assert [int(r[0]) for r in rows[1:]] == [ids["old"], ids["new"]]  # oldest first
    new = dict(zip(rows[0], rows[2], strict=True))
    assert new["sender"] == "lisi@163.example" and new["sender_name"] == "李四"
    assert new["subject"] == '\'=HYPERLINK("http://evil.example")'  # text, not a formula
    assert new["status"] == "accepted" and new["char_count"] == str(len("新稿，一二三"))
    # The desk's time zone ([replies] timezone, Asia/Shanghai by default), with its offset.
    assert new["received_at"].endswith("+08:00")
    with env.app.sessions() as session:
        stored = session.get(Submission, ids["new"])
        assert stored is not None
        assert datetime.fromisoformat(new["received_at"]) == stored.received_at

    since = (NOW - timedelta(days=3)).strftime("%Y-%m-%d")
    done = intake(env, capsysbinary, "export", "--status", "accepted", "--status", "published",
                  "--since", since)  # fmt: skip
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8-sig"), newline="")))
    assert [int(r[0]) for r in rows[1:]] == [ids["published"], ids["new"]]
    assert rows[1][LEDGER_COLUMNS.index("published_url")] == "https://news.example/a/1"

    out = tmp_path / "账本.csv"
    done = intake(env, capsysbinary, "export", "--status", "accepted", "-o", str(out))
    assert done.code == 0 and done.stdout.decode() == f"2 submissions written to {out}\n"
    assert out.read_bytes().startswith(BOM)
    assert len(out.read_bytes().decode("utf-8-sig").splitlines()) == 3
    # Phone, ID and bank numbers in full: the file is its writer's alone, like payroll.
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_json_ledger(env: Env, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    ids = _ledger_rows(env)
    done = intake(env, capsysbinary, "export", "--status", "accepted", "--format", "json")
    assert done.code == 0, done.stderr
    assert not done.stdout.startswith(BOM)
    data = json.loads(done.stdout)
    assert [d["id"] for d in data] == [ids["old"], ids["new"]]
    assert set(data[1]) == set(LEDGER_COLUMNS)
    assert data[1]["subject"] == '=HYPERLINK("http://evil.example")'  # JSON keeps text as is
    assert data[1]["sender_name"] == "李四" and isinstance(data[1]["char_count"], int)


def test_ledger_pays_the_author_the_configured_fee(
    env: Env, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    ids = _ledger_rows(env)
    author = {
        "name": "李四", "pen_name": "木子", "phone": "13812345678",
        "id_number": "44030519900101123X", "bank": "工商银行深圳分行",
        "account": "6222021234567890123", "address": "深圳市南山区", "postcode": "518057",
    }  # fmt: skip
    with env.app.sessions() as session, session.begin():
        session.execute(update(Submission).where(Submission.id == ids["new"]).values(author=author))
    with env.config.open("a", encoding="utf-8") as config:
        config.write('\n[fees]\nrate_per_thousand_chars = 100.0\nround_to = "fen"\n')
    done = intake(env, capsysbinary, "export", "--status", "accepted", "--format", "csv")
    assert done.code == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8-sig"), newline="")))
    new = dict(zip(rows[0], rows[2], strict=True))
    assert new["fee"] == "0.60"  # 6 字 × 100 / 1000
    assert new["author_name"] == "李四" and new["pen_name"] == "木子"
    # in full, as text Excel will not round: the accountant pays from these
    assert new["id_number"] == "\t44030519900101123X" and new["account"] == "\t6222021234567890123"
    assert new["bank"] == "工商银行深圳分行" and new["phone"] == "\t13812345678"
    old = dict(zip(rows[0], rows[1], strict=True))
    assert old["fee"] == "10.00" and old["author_name"] == ""
    done = intake(env, capsysbinary, "export", "--status", "accepted", "--format", "json")
    data = json.loads(done.stdout)
    assert data[1]["fee"] == 0.6 and data[1]["account"] == "6222021234567890123"


def test_ledger_without_a_rate_has_no_fee(
    env: Env, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    _ledger_rows(env)
    data = json.loads(intake(env, capsysbinary, "export", "--format", "json").stdout)
    assert all(d["fee"] is None for d in data)
