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
