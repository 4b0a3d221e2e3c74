"""Decide what an incoming message is by walking small named rules in a fixed order.

One rule per module, each with a name, a description and ``check()`` (as GNU Mailman 3's
rules/ are); :mod:`.chain` holds their order, :mod:`.policy` whether we may answer at all.
"""

from __future__ import annotations

from intake.ingest.classify.chain import RULES, classify, with_documents
from intake.ingest.classify.policy import auto_reply_allowed
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule
from intake.text.addresses import is_noreply_address

__all__ = [
    "RULES",
    "ClassifyContext",
    "Hit",
    "Rule",
    "auto_reply_allowed",
    "classify",
    "is_noreply_address",
    "with_documents",
]
