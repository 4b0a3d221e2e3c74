"""Near-duplicate lookup at archive size: insert fingerprinted articles, then time lookups (prints
numbers; run on demand).

    .venv/bin/python benchmarks/dedupe.py                      # 100,000 articles, SQLite
    .venv/bin/python benchmarks/dedupe.py --count 20000 --url postgresql+psycopg://...

1. Generates seeded Chinese articles (600-2,000 characters from a 3,000-word vocabulary with
   Zipf-like frequencies, so unrelated articles share common phrases as real ones do) and
   times fingerprinting them (shingles + MinHash + band keys).
2. Bulk-inserts them as submissions with their 32 band keys each into a fresh database.
3. Times ``intake.conversations.hooks.find_original`` (the dedupe hook's lookup: band-key query,
   then exact shingle Jaccard on at most 20 candidates) for resends with trivial edits of
   stored articles (must be found) and for new articles (must not be), and prints the
   median, p95 and worst lookup time with the recall and the false matches.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from intake import store  # noqa: E402
from intake.store.models import Fingerprint, Message, Submission  # noqa: E402
from intake.submissions.duplicates import find_original  # noqa: E402
from intake.text import fingerprints as dedupe  # noqa: E402
from intake.workflow.opening import content_hash  # noqa: E402

CHUNK = 2000
NOW = datetime.now(UTC).replace(microsecond=0)
PUNCTUATION = "，，，，。。、；！？"


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    common = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]
    return [
        "".join(rng.choice(common) for _ in range(rng.choice((1, 2, 2, 2, 3, 4))))
        for _ in range(size)
    ]


def article(rng: random.Random, words: list[str], cumulative: list[float]) -> str:
    length = rng.randint(600, 2000)
    parts: list[str] = []
    total = 0
    while total < length:
        clause = "".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 9)))
        parts.append(clause + rng.choice(PUNCTUATION))
        total += len(clause) + 1
    return "".join(parts)


def trivial_edits(rng: random.Random, text: str) -> str:
    """A resend: punctuation changed, a title line added, a few characters replaced."""
    chars = list(text.replace("，", ", "))
    for i in rng.sample(range(len(chars)), max(1, len(chars) // 200)):
        chars[i] = "的"
    return "（修改稿）\n" + "".join(chars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="articles stored")
    parser.add_argument("--lookups", type=int, default=200, help="lookups timed (half resends)")
    parser.add_argument("--url", default="", help="database URL (default: a temporary SQLite)")
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args()

    rng = random.Random(20261120)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))

    print(f"generating {args.count:,} articles ...", flush=True)
    texts = [article(rng, words, weights) for _ in range(args.count)]
    chars = sum(len(t) for t in texts)
    start = time.perf_counter()
    prints = [dedupe.fingerprint(t) for t in texts]
    took = time.perf_counter() - start
    each = took / args.count * 1000
    print(
        f"fingerprint: {args.count / took:,.0f} articles/s ({each:.2f} ms each, "
        f"{chars / args.count:,.0f} chars on average)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{os.path.join(tmp, 'dedupe.db')}"
        engine = store.make_engine(url)
        store.upgrade(engine)
        sessions = store.session_factory(engine)
        start = time.perf_counter()
        for base in range(0, args.count, CHUNK):
            chunk = range(base, min(base + CHUNK, args.count))
            with sessions() as session, session.begin():
                session.execute(insert(Message), [_message(i) for i in chunk])
                session.execute(insert(Submission), [_submission(i, texts[i]) for i in chunk])
                rows = [
                    {"submission_id": i + 1, "band": band, "key": key}
                    for i in chunk
                    for band, key in (prints[i].bands if prints[i] else ())  # type: ignore[union-attr]
                ]
                session.execute(insert(Fingerprint), rows)
        took = time.perf_counter() - start
        with sessions() as session:
            fingerprints = session.scalar(select(func.count()).select_from(Fingerprint))
        size = Path(url.removeprefix("sqlite:///")).stat().st_size if not args.url else 0
        print(f"insert: {args.count:,} submissions + {fingerprints:,} band keys in {took:.1f} s"
              + (f"; database {size / 1e6:,.0f} MB" if size else ""))  # fmt: skip

        times: list[float] = []
        found = false_matches = resends = 0
        for n in range(args.lookups):
            resend = n % 2 == 0
            if resend:
                source = rng.randrange(args.count)
                text = trivial_edits(rng, texts[source])
                resends += 1
            else:
                text = article(rng, words, weights)
            probe = Submission(
                id=args.count + 1 + n, article_text=text, content_hash=content_hash(text),
                attachments_hash="", article_source="body",
            )  # fmt: skip
            start = time.perf_counter()
            with sessions() as session, session.begin():
                match = find_original(session, probe, dedupe.fingerprint(text), args.threshold)
            times.append(time.perf_counter() - start)
            if resend and match is not None and match.id == source + 1:
                found += 1
            elif match is not None and not resend:
                false_matches += 1
        times.sort()
        median, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
        print(
            f"lookup over {args.count:,} articles: median {median * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms, worst {times[-1] * 1000:.1f} ms"
        )
        print(f"resends found: {found}/{resends}; new articles wrongly matched: {false_matches}/"
              f"{args.lookups - resends}")  # fmt: skip
        engine.dispose()


def _message(i: int) -> dict[str, object]:
    digest = hashlib.sha256(f"message {i}".encode()).hexdigest()
    return {
        "id": i + 1, "sha256": digest, "body_sha256": digest, "size": 1000, "raw_path": "",
        "message_id": f"{i}@bench.example", "received_at": NOW, "ingested_at": NOW,
        "kind": "submission",
    }  # fmt: skip


def _submission(i: int, text: str) -> dict[str, object]:
    return {
        "id": i + 1, "sender": f"writer{i % 5000}@qq.example", "received_at": NOW,
        "message_pk": i + 1, "article_text": text, "char_count": len(text),
        "content_hash": content_hash(text), "updated_at": NOW,
    }  # fmt: skip


if __name__ == "__main__":
    main()
