"""The shipped migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from intake import store
from intake.models import Base

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
