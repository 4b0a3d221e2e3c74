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


#: Where the rules that read the thread begin: a verdict from a rule before this one stands
#: whatever thread the message turns out to belong to.
_THREAD_RULES = RULES.index(reply.RULE)
_EARLIER = frozenset(rule.name for rule in RULES[:_THREAD_RULES])


def classify(mail: ParsedMail, ctx: ClassifyContext, unthreaded: Verdict | None = None) -> Verdict:
    """The verdict of the first rule in :data:`RULES` that matches, else a new submission.

    ``unthreaded`` is the verdict of this message under the same context without a thread
    (the parse worker classifies before the database says which thread a message joins):
    the rules before the reply rule do not read the thread, so only the rest run again.
    """
    rules = RULES
    if unthreaded is not None:
        if unthreaded.rule in _EARLIER or not ctx.thread_match:
            return unthreaded
        rules = RULES[_THREAD_RULES:]
    for rule in rules:
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
