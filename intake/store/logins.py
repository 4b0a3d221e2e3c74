"""Queries for refused logins: one row per account and service (imap, smtp)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store.models import Login


def _row(session: Session, account: str, service: str) -> Login:
    row = session.get(Login, (account, service))
    if row is None:
        row = Login(account=account, service=service, host="", failures=0, last_error="")
        session.add(row)
    return row


def record_refusal(
    session: Session,
    account: str,
    service: str,
    *,
    host: str,
    error: str,
    failures: int,
    now: datetime,
    retry_at: datetime,
) -> None:
    row = _row(session, account, service)
    row.host = host[:255]
    row.failures = failures
    row.last_error = error
    row.failed_at = now
    row.retry_at = retry_at


def record_success(session: Session, account: str, service: str, now: datetime) -> None:
    row = _row(session, account, service)
    row.failures = 0
    row.retry_at = None
    row.succeeded_at = now


def all_logins(session: Session) -> list[Login]:
    return list(session.scalars(select(Login).order_by(Login.account, Login.service)))
