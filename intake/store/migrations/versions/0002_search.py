"""full-text search over submissions, and the time-to-decision index

SQLite: an FTS5 table with the trigram tokenizer (substring search that works for Chinese,
which has no spaces between words; needs SQLite 3.34+), external content read through a view,
kept in step by triggers. PostgreSQL: pg_trgm and a GIN trigram index on one text expression
that ``intake.store.queue._document`` repeats exactly (change both together).

In both, the body is left out when it equals the article (the article was written into the
mail itself), which halves the index in the common case. A later SQLite batch migration that
recreates ``submissions`` drops these triggers and indexes: create them again after it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_DOCUMENT = (
    "subject || ' ' || sender || ' ' || sender_name || ' ' || "
    "CASE WHEN body_text = article_text THEN '' ELSE body_text END || ' ' || article_text"
)

COLUMNS = "subject, sender, sender_name, body_text, article_text"


def _values(row: str) -> str:
    return (
        f"{row}.subject, {row}.sender, {row}.sender_name, "
        f"CASE WHEN {row}.body_text = {row}.article_text THEN '' ELSE {row}.body_text END, "
        f"{row}.article_text"
    )


SQLITE_UP = [
    # FTS5 reads column values (for 'rebuild', snippets) from its content table by name; a view
    # lets it see the same "body unless it is the article" value the triggers index.
    "CREATE VIEW submissions_search AS SELECT id, subject, sender, sender_name, "
    "CASE WHEN body_text = article_text THEN '' ELSE body_text END AS body_text, article_text "
    "FROM submissions",
    f"CREATE VIRTUAL TABLE submissions_fts USING fts5({COLUMNS}, content='submissions_search', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER submissions_fts_insert AFTER INSERT ON submissions BEGIN "
    f"INSERT INTO submissions_fts(rowid, {COLUMNS}) VALUES (new.id, {_values('new')}); END",
    "CREATE TRIGGER submissions_fts_delete AFTER DELETE ON submissions BEGIN "
    f"INSERT INTO submissions_fts(submissions_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.id, {_values('old')}); END",
    # Only when a searched column changes: status moves must not re-index 5,000 characters.
    f"CREATE TRIGGER submissions_fts_update AFTER UPDATE OF {COLUMNS} ON submissions BEGIN "
    f"INSERT INTO submissions_fts(submissions_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.id, {_values('old')}); "
    f"INSERT INTO submissions_fts(rowid, {COLUMNS}) VALUES (new.id, {_values('new')}); END",
    "INSERT INTO submissions_fts(submissions_fts) VALUES ('rebuild')",
]

# The median time to decision (`intake stats`) reads this index in order instead of sorting
# every decided submission; ``intake.store.queue._decision_time`` repeats the expression.
SQLITE_DECISION_TIME = (
    "CREATE INDEX ix_submissions_decision_time ON submissions "
    "((julianday(decided_at) - julianday(received_at)), received_at)"
)
PG_DECISION_TIME = (
    "CREATE INDEX ix_submissions_decision_time ON submissions "
    "((decided_at - received_at), received_at)"
)

SQLITE_DOWN = [
    "DROP INDEX IF EXISTS ix_submissions_decision_time",
    "DROP TRIGGER IF EXISTS submissions_fts_update",
    "DROP TRIGGER IF EXISTS submissions_fts_delete",
    "DROP TRIGGER IF EXISTS submissions_fts_insert",
    "DROP TABLE IF EXISTS submissions_fts",
    "DROP VIEW IF EXISTS submissions_search",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        op.execute(SQLITE_DECISION_TIME)
    elif dialect == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_submissions_search ON submissions USING gin (({PG_DOCUMENT}) "
            "gin_trgm_ops)"
        )
        op.execute(PG_DECISION_TIME)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_submissions_decision_time")
        op.execute("DROP INDEX IF EXISTS ix_submissions_search")
