"""Mail from a list or newsletter (RFC 2369/2919 headers): nobody submitted it to us."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import list_header
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    found = list_header(mail)
    return Hit(f"list header {found}") if found else None


RULE = Rule(
    "list",
    Kind.LIST,
    "List-Id, List-Post, List-Unsubscribe, X-Mailing-List, Mailing-List or Precedence: list",
    check,
)
