"""The rule chain: the rules in their fixed order; the first that matches decides."""

from __future__ import annotations

from dataclasses import replace

from intake.core.mail import Kind, ParsedMail, Verdict
from intake.ingest.classify import (
    bounce_dsn,
    bounce_envelope,
    bounce_report,
    bounce_sender,
    bounce_subject,
    claim,
    mailing_list,
    own,
    reply,
    spam,
)
from intake.ingest.classify.rule import ClassifyContext, Rule
from intake.ingest.classify.signals import AUTO_REPLY_RULES

#: The rules in the order they are tried. Own mail first (never process our own letters),
#: then the mail system's reports, then responders: each of those would start a loop if it
#: were answered, so they outrank lists, spam verdicts, threads and claims.
RULES: tuple[Rule, ...] = (
    own.RULE,
    bounce_dsn.RULE,
    bounce_report.RULE,
    bounce_sender.RULE,
    bounce_subject.RULE,
    bounce_envelope.RULE,
    *AUTO_REPLY_RULES,
    mailing_list.RULE,
    spam.RULE,
    reply.RULE,
    claim.RULE,
)


def classify(mail: ParsedMail, ctx: ClassifyContext) -> Verdict:
    """The verdict of the first rule in :data:`RULES` that matches, else a new submission."""
    for rule in RULES:
        hit = rule.check(mail, ctx)
        if hit is not None:
            return Verdict(
                rule.kind, rule.name, hit.reason, refers_to=hit.refers_to, score=hit.score
            )
    return Verdict(Kind.SUBMISSION, "submission", "no rule matched: a new submission")


def with_documents(
    mail: ParsedMail, ctx: ClassifyContext, verdict: Verdict, texts: tuple[str, ...]
) -> Verdict:
    """The verdict once the attachments' text is read: a submission may turn out to be a
    claim whose letter came as a document (the rule reads short letter-like ones only)."""
    if verdict.kind is not Kind.SUBMISSION or not texts:
        return verdict
    return classify(mail, replace(ctx, claim_attachment_texts=texts))
