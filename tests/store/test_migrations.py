"""The shipped migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from intake import store
from intake.store.models import Base

# Made by hand in 0002 for full-text search; not described by the models on purpose.
HAND_MADE = {
    "submissions_fts",
    "submissions_search",
    "ix_submissions_search",
    "ix_submissions_decision_time",  # an expression index, which reflection cannot describe
}


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if name in HAND_MADE or (name or "").startswith("submissions_fts"):
        return False
    return not (type_ == "table" and name == "alembic_version")


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_upgrade_matches_the_models(db_url: str) -> None:
    engine = store.make_engine(db_url)
    try:
        store.upgrade(engine)
        assert store.current_revision(engine) == store.head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _ours, "compare_type": True}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        store.require_schema(engine)  # the fast check agrees with Alembic
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(sqlite_url: str) -> None:
    engine = store.make_engine(sqlite_url)
    try:
        store.upgrade(engine)
        store.upgrade(engine)
        assert store.current_revision(engine) == store.head_revision()
    finally:
        engine.dispose()


def test_models_annotate_exactly_their_tables_columns() -> None:
    # The tables (intake.store.schema) define the columns; the ORM classes only annotate them for
    # mypy. A typo, a missing column or a wrong Optional would otherwise go unnoticed.
    from typing import get_args, get_type_hints

    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    for model in Base.__subclasses__():
        hints = get_type_hints(model)
        columns = model.__table__.c
        relationships = set(model.__mapper__.relationships.keys())
        annotated = {name for name in model.__annotations__ if not name.startswith("__")}
        assert annotated - relationships == set(columns.keys()), model.__name__
        for column in columns:
            (python_type,) = get_args(hints[column.key])  # Mapped[T] -> T
            optional = type(None) in get_args(python_type)
            assert optional == bool(column.nullable), f"{model.__name__}.{column.key}"


def test_downgrade_one_step_and_upgrade_again(db_url: str) -> None:
    from alembic import command

    engine = store.make_engine(db_url)
    try:
        store.upgrade(engine)
        cfg = store.alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "-1")
        assert store.current_revision(engine) != store.head_revision()
        store.upgrade(engine)
        assert store.current_revision(engine) == store.head_revision()
        store.require_schema(engine)
    finally:
        engine.dispose()


def test_0008_normalises_stored_addresses_and_keys_the_outbox(db_url: str) -> None:
    """Rows stored before addresses were normalised: after the upgrade every spelling of one
    mailbox is one spelling, suppressions of one mailbox are one (the longest), and the
    outbox rows are keyed for limits and holds; what we send to keeps its spelling."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select, text

    from intake.store import schema

    engine = store.make_engine(db_url)
    now = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    try:
        store.upgrade(engine, "0006")
        with engine.begin() as conn:
            message = {"body_sha256": "b", "size": 1, "raw_path": "", "received_at": now,
                       "ingested_at": now, "kind": "submission"}  # fmt: skip
            for n, sender in enumerate(["Victim@Ｖ.example", "victim@v.example", "ZS@例子.中国"]):
                conn.execute(insert(schema.messages).values(sha256=f"s{n}", sender=sender,
                                                            **message))  # fmt: skip
                conn.execute(
                    insert(schema.submissions).values(
                        sender=sender, received_at=now, message_pk=n + 1, updated_at=now
                    )
                )
            conn.execute(insert(schema.claims).values(
                claimant="LAWYER@FIRM.EXAMPLE", received_at=now, message_pk=1, updated_at=now
            ))  # fmt: skip
            for address, days in [("VICTIM@v.example", 10), ("victim@ｖ.example", 60),
                                  ("other@x.example", 5)]:  # fmt: skip
                conn.execute(
                    text("INSERT INTO suppressions (address, reason, created_at, until) "
                         "VALUES (:a, :r, :c, :u)"),
                    {"a": address, "r": f"{days} days", "c": now,
                     "u": (now + timedelta(days=days)).replace(tzinfo=None)},
                )  # fmt: skip
            for n, (to, state) in enumerate([("Victim@v.example", "sent"),
                                             ("victim+x@v.example", "pending")]):  # fmt: skip
                conn.execute(
                    text("INSERT INTO outbox (template, to_addr, subject, message_id, raw, state,"
                         " attempts, next_attempt_at, last_error, claimed_by, terms_version,"
                         " created_at, sent_at, automatic, in_sent_folder) VALUES ('ack', :to,"
                         " '', :mid, :raw, :state, 0, :now, '', '', '', :now, :sent, :auto,"
                         " :auto)"),
                    {"to": to, "mid": f"m{n}@x", "raw": b"x", "state": state, "now": now,
                     "sent": now if state == "sent" else None, "auto": True},
                )  # fmt: skip
        store.upgrade(engine)
        with engine.connect() as conn:
            senders = conn.execute(select(schema.messages.c.sender).order_by(schema.messages.c.id))
            assert list(senders.scalars()) == [
                "victim@v.example", "victim@v.example", "zs@xn--fsqu00a.xn--fiqs8s"
            ]  # fmt: skip
            subs = conn.execute(select(schema.submissions.c.sender)).scalars()
            assert sorted(set(subs)) == ["victim@v.example", "zs@xn--fsqu00a.xn--fiqs8s"]
            assert conn.execute(select(schema.claims.c.claimant)).scalar() == "lawyer@firm.example"
            rows = conn.execute(
                select(schema.suppressions.c.address, schema.suppressions.c.key,
                       schema.suppressions.c.reason).order_by(schema.suppressions.c.address)
            ).all()  # fmt: skip
            assert [tuple(r) for r in rows] == [
                ("other@x.example", "other@x.example", "5 days"),
                ("victim@v.example", "victim@v.example", "60 days"),
            ]
            outbox = conn.execute(
                select(schema.outbox.c.to_addr, schema.outbox.c.to_key,
                       schema.outbox.c.handed_at).order_by(schema.outbox.c.id)
            ).all()  # fmt: skip
            assert [(to, key) for to, key, _ in outbox] == [
                ("Victim@v.example", "victim@v.example"),
                ("victim+x@v.example", "victim@v.example"),
            ]
            assert outbox[0][2] is not None and outbox[1][2] is None
    finally:
        engine.dispose()
