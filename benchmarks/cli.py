"""Benchmark the staff CLI as editors run it: whole ``intake`` processes against a queue of
realistic size, on SQLite and on PostgreSQL, reporting the median wall time of each command.

    .venv/bin/python benchmarks/cli.py                   # 100,000 submissions, both backends
    .venv/bin/python benchmarks/cli.py --rows 10000 --backend sqlite --runs 3

The queue is generated from a seeded word list (Chinese and English articles of 500-5,000
characters, some written into the mail, some in a document attachment), bulk-inserted with
SQLAlchemy core ``insert()`` executemany, then analysed (and vacuumed on PostgreSQL, as
autovacuum would have). The intake package is byte-compiled first, as an installed one is.
The target is a median under 0.5 s per command.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, insert, select, text  # noqa: E402

from intake import store  # noqa: E402
from intake.store.models import Attachment, Event, Message, Submission  # noqa: E402

TARGET = 0.5
CHUNK = 2000
NOW = datetime.now(UTC).replace(microsecond=0)

# Words every article uses, and topics: an article takes one or two topics, so a topic word
# such as 复工复产 or "lantern" appears in a few percent of the queue, as in a real archive.
ZH_COMMON = (
    "我们 今年 以来 工作 发展 群众 政府 部门 推动 加强 提高 改善 建设 生活 幸福 美好 温暖 "
    "感动 故事 记者 时间 地方 大家 已经 开始 看到 觉得 一起 这里 那里 现在 过去 未来 "
    "的 的 的 了 了 在 在 是 是 和 也 都 就 还 又 把 被 让 给 对 从 向 与 及 等 着 过 中 上 下"
).split()
ZH_TOPICS = [
    "经济 企业 生产 市场 消费 产业 投资 项目 就业 收入 订单 工厂 工人 园区 车间".split(),
    "疫情 防控 复工复产 口罩 核酸 隔离 社区 志愿者 物资 保障 恢复 企业 复工".split(),
    "乡村振兴 农村 农业 粮食 丰收 田野 村庄 合作社 种植 农民 脱贫 小康 特色产业".split(),
    "教育 学校 老师 学生 孩子 家长 课堂 作业 考试 校园 毕业 青春 梦想".split(),
    "医院 医生 患者 健康 护士 手术 病房 医保 养老 康复 治疗 守护".split(),
    "文化 历史 传统 节日 春节 中秋 故乡 灯笼 庙会 非遗 手艺 年味 团圆".split(),
    "母亲 父亲 记忆 时光 岁月 春天 夏天 秋天 冬天 河流 山川 老屋 炊烟".split(),
    "交通 环境 保护 生态 绿色 低碳 能源 河道 治理 垃圾分类 公园 湿地".split(),
    "城市 街道 小区 物业 停车 加装电梯 老旧小区 改造 便民 菜市场 夜市".split(),
    "科技 创新 人才 研发 芯片 数字化 互联网 直播 电商 平台 算法 数据".split(),
]
ZH_PUNCT = ("，", "，", "，", "。", "。", "、", "；", "！", "？")
EN_COMMON = (
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if so "
    "will people year time day town local said many new old"
).split()
EN_TOPICS = [
    "river festival lantern dragon parade paper canal boat night crowd music".split(),
    "school teacher student classroom exam library homework graduation".split(),
    "hospital doctor nurse patient clinic health care ward surgery".split(),
    "market farmer harvest village field rice tea orchard cooperative".split(),
    "factory worker wage order export machine shift union".split(),
    "city street bridge traffic bus metro housing rent neighbour".split(),
    "mother father children family memory home kitchen letter".split(),
    "energy water mountain forest green climate wind solar river".split(),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
DOMAINS = ("qq.com", "163.com", "126.com", "foxmail.com", "sina.com", "gmail.com", "outlook.com")
EDITORS = ("li", "wang", "zhao", "chen", "")
STATUS_WEIGHTS = {
    "received": 4,
    "in_review": 8,
    "needs_info": 3,
    "accepted": 8,
    "declined": 50,
    "published": 18,
    "withdrawn": 3,
    "duplicate": 6,
}


def article(rng: random.Random, chinese: bool) -> str:
    target = rng.randint(500, 5000)
    parts: list[str] = []
    size = 0
    common = ZH_COMMON if chinese else EN_COMMON
    topics = ZH_TOPICS if chinese else EN_TOPICS
    topic = [w for t in rng.sample(topics, rng.choice((1, 1, 2))) for w in t]
    while size < target:
        words = [
            rng.choice(topic) if rng.random() < 0.3 else rng.choice(common)
            for _ in range(rng.randint(6, 18))
        ]
        if chinese:
            sentence = "".join(words) + rng.choice(ZH_PUNCT)
        else:
            sentence = " ".join(words).capitalize() + ". "
        parts.append(sentence)
        size += len(sentence)
        if rng.random() < 0.08:
            parts.append("\n\n")
    return "".join(parts)[:target]


def rows(rng: random.Random, start: int, count: int) -> Iterator[dict[str, Any]]:
    for i in range(start, start + count):
        chinese = rng.random() < 0.75
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        addr = f"{rng.randint(10000, 999999999)}@{rng.choice(DOMAINS)}"
        received = NOW - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        text_ = article(rng, chinese)
        in_body = rng.random() < 0.6
        title = text_[:12].strip() if chinese else " ".join(text_.split()[:5])
        decided = status in ("accepted", "declined", "published")
        rights = (
            "granted"
            if status == "published"
            else rng.choice(["not_requested", "requested", "granted", "refused", "expired"])
        )
        yield {
            "id": i,
            "status": status,
            "copyright_status": rights,
            "sender": addr,
            "sender_name": name if chinese else "",
            "subject": f"投稿：{title}" if chinese else f"Submission: {title}",
            "title": title,
            "received_at": received,
            "decision_due": received + timedelta(days=15),
            "decided_at": received + timedelta(hours=rng.randint(2, 40 * 24)) if decided else None,
            "message_pk": i,
            "body_text": text_ if in_body else "编辑老师好，稿件见附件，谢谢！",
            "article_text": text_,
            "article_source": "body" if in_body else "稿件.docx",
            "char_count": len(text_),
            "word_count": len(text_.split()) if not chinese else 0,
            "assignee": rng.choice(EDITORS) if status != "received" else "",
            "updated_at": received,
            "attachment": not in_body,
        }


def fill(engine: Engine, count: int, seed: int = 20240501) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    search_index = ""
    if engine.dialect.name == "postgresql":
        # Building the trigram index once is much faster than growing it row by row.
        with engine.begin() as conn:
            search_index = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_submissions_search'")
            ).scalar_one()
            conn.execute(text("DROP INDEX ix_submissions_search"))
    with engine.begin() as conn:
        for start in range(1, count + 1, CHUNK):
            batch = list(rows(rng, start, min(CHUNK, count - start + 1)))
            conn.execute(
                insert(Message),
                [
                    {
                        "id": r["id"],
                        "sha256": f"{r['id']:064x}",
                        "body_sha256": f"{r['id']:064x}",
                        "size": len(r["body_text"]) * 3,
                        "raw_path": "",
                        "message_id": f"{r['id']}.{r['sender']}",
                        "sender": r["sender"],
                        "sender_name": r["sender_name"],
                        "subject": r["subject"],
                        "received_at": r["received_at"],
                        "ingested_at": r["received_at"],
                        "kind": "submission",
                        "defects": [],
                        "body_text": "",
                    }
                    for r in batch
                ],
            )
            conn.execute(
                insert(Submission),
                [{k: v for k, v in r.items() if k != "attachment"} for r in batch],
            )
            conn.execute(
                insert(Attachment),
                [
                    {
                        "message_pk": r["id"],
                        "submission_id": r["id"],
                        "filename": "稿件.docx",
                        "safe_name": "gaojian.docx",
                        "content_type": "application/msword",
                        "size": r["char_count"] * 3,
                        "sha256": f"{r['id']:064x}",
                        "blob_path": "",
                        "kind": "document",
                        "text_chars": r["char_count"],
                        "meta": {},
                    }
                    for r in batch
                    if r["attachment"]
                ],
            )
            events = [
                {
                    "submission_id": r["id"],
                    "at": r["received_at"],
                    "actor": "intake",
                    "action": "received",
                    "to_status": "received",
                }
                for r in batch
            ] + [
                {
                    "submission_id": r["id"],
                    "at": r["decided_at"] or r["updated_at"],
                    "actor": r["assignee"] or "li",
                    "action": "decide",
                    "from_status": "in_review",
                    "to_status": r["status"],
                }
                for r in batch
                if r["status"] != "received"
            ]
            conn.execute(insert(Event), events)
            # Messages point back at their submission (the FK cycle ingest closes the same way).
            if start % (CHUNK * 10) == 1:
                print(
                    f"  {start + len(batch) - 1:,} rows, {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
        conn.execute(text("UPDATE messages SET submission_id = id"))
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), (SELECT max(id) FROM "
                    + "submissions))"
                ),
                {"t": "submissions"},
            )
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('messages', 'id'), "
                    "(SELECT max(id) FROM messages))"
                )
            )
    if search_index:
        with engine.begin() as conn:
            conn.execute(text(search_index))
    # VACUUM as well on PostgreSQL: a database in use has been vacuumed by autovacuum, and
    # until then index-only scans (the counts of `stats`) still visit every heap page.
    maintenance = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(maintenance))
    print(f"  filled {count:,} submissions in {time.perf_counter() - started:.0f} s")


def measure(config: Path, args: list[str], runs: int) -> tuple[float, float]:
    script = Path(sys.executable).with_name("intake")
    command = [str(script), "--config", str(config), *args]
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    times = times[1:]  # the first run warms the page cache
    return statistics.median(times), max(times)


def run_backend(name: str, url: str, work: Path, count: int, runs: int) -> list[tuple[str, float]]:
    print(f"\n== {name}: {count:,} submissions")
    engine = store.make_engine(url)
    store.upgrade(engine)
    with engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(Submission)).scalar_one()
    if existing != count:
        if existing:
            raise SystemExit(f"{url} already has {existing} submissions; use a fresh --work dir")
        fill(engine, count)
    with engine.connect() as conn:
        show_id = conn.execute(
            select(Submission.id).where(Submission.status == "in_review").limit(1)
        ).scalar_one()
    engine.dispose()
    config = work / f"{name}.toml"
    storage = json.dumps(str(work / "store"))
    config.write_text(
        f"[database]\nurl = {json.dumps(url)}\n[storage]\npath = {storage}\n", encoding="utf-8"
    )
    commands = [
        ["--help"],
        ["list", "--limit", "50"],
        ["list", "--search", "复工复产"],
        ["list", "--search", "lantern festival"],
        ["list", "--status", "in_review", "--overdue"],
        ["list", "--from", "@qq.com", "--sort", "due"],
        ["show", str(show_id)],
        ["show", str(show_id), "--json"],
        ["stats"],
    ]
    results = []
    for args in commands:
        median, worst = measure(config, args, runs)
        flag = "" if median < TARGET or args == ["--help"] else "  OVER TARGET"
        label = "intake " + " ".join(args)
        print(f"  {label:<50} median {median:6.3f} s   max {worst:6.3f} s{flag}", flush=True)
        results.append((label, median))
    print("  in-process query time (what the database does, without start-up):")
    for label, seconds in queries(url, show_id, runs):
        print(f"    {label:<48} median {seconds * 1000:7.1f} ms", flush=True)
    return results


def queries(url: str, show_id: int, runs: int) -> list[tuple[str, float]]:
    from intake.cli.views import submission_detail
    from intake.store import queue

    engine = store.make_engine(url)
    now = datetime.now(UTC)
    cases: list[tuple[str, Any]] = [
        ("list --limit 50", lambda c: queue.list_queue(c, queue.QueueFilter(), now=now)),
        (
            "list --search 复工复产",
            lambda c: queue.list_queue(c, queue.QueueFilter(search="复工复产"), now=now),
        ),
        (
            "list --search lantern festival",
            lambda c: queue.list_queue(c, queue.QueueFilter(search="lantern festival"), now=now),
        ),
        (
            "list --search 复工 (LIKE)",
            lambda c: queue.list_queue(c, queue.QueueFilter(search="复工"), now=now),
        ),
        (
            "list --status in_review --overdue",
            lambda c: queue.list_queue(
                c, queue.QueueFilter(statuses=("in_review",), overdue=True), now=now
            ),
        ),
        ("show (detail)", lambda c: submission_detail(c, show_id, now)),
        ("stats", lambda c: queue.queue_stats(c, now=now)),
    ]
    out = []
    for label, call in cases:
        times = []
        for _ in range(runs):
            with engine.connect() as conn:
                started = time.perf_counter()
                call(conn)
                times.append(time.perf_counter() - started)
        out.append((label, statistics.median(times)))
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--work", type=Path, help="Keep databases here (reused when the size matches)."
    )
    parser.add_argument(
        "--postgres-url",
        help="Use this PostgreSQL database (filled if empty) instead of a throwaway cluster.",
    )
    options = parser.parse_args()
    # An installed intake (`pip install .`) comes byte-compiled; an editable checkout compiles
    # on first import, unless PYTHONDONTWRITEBYTECODE is set. Compile it here, so every run
    # measures what an editor runs, not the compiler.
    compileall.compile_dir(ROOT / "intake", quiet=1)
    with contextlib.ExitStack() as stack:
        work = options.work or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="ibench-"))
        )
        work.mkdir(parents=True, exist_ok=True)
        if options.backend in ("sqlite", "both"):
            run_backend(
                "sqlite", f"sqlite:///{work / 'intake.db'}", work, options.rows, options.runs
            )
        if options.backend in ("postgresql", "both"):
            url = options.postgres_url
            if not url:
                from tests.servers import Postgres

                url = stack.enter_context(Postgres()).new_database()
            run_backend("postgresql", url, work, options.rows, options.runs)


if __name__ == "__main__":
    main()
