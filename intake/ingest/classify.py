"""Decide what an incoming message is by walking small named rules in a fixed order."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses

from intake.core.mail import NO_AUTOREPLY_KINDS, Kind, ParsedMail, Verdict
from intake.rights.scoring import assess
from intake.text.addresses import normalised_or_empty


def _never(message_id: str) -> bool:
    """The default Message-ID check: without the reply secret nothing is provably ours."""
    return False


@dataclass(frozen=True, slots=True)
class ClassifyContext:
    """What the rules need to know beyond the message itself."""

    own_addresses: frozenset[str]
    loop_header: str = "X-Intake-Loop"
    is_own_message_id: Callable[[str], bool] = _never  # verifies the HMAC in our Message-IDs
    thread_match: str = ""  # the stored Message-ID or subject token this message refers to
    site_domains: tuple[str, ...] = ()
    claim_threshold: float = 3.0
    claim_attachment_texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule matched: why, and what it found for the verdict."""

    reason: str
    refers_to: str = ""
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Rule:
    """One named rule: the kind it assigns and the check that returns a hit or None."""

    name: str
    kind: Kind
    check: Callable[[ParsedMail, ClassifyContext], Hit | None]


# --------------------------------------------------------------------------- helpers


def _value(mail: ParsedMail, name: str) -> str:
    """The first value of header ``name``, whitespace collapsed ("" when absent)."""
    return " ".join((mail.header(name) or "").split())


def _present(mail: ParsedMail, *names: str) -> str:
    """The first of ``names`` that the message carries, as "Name: value" ("" when none)."""
    for name in names:
        value = mail.header(name)
        if value is not None:
            value = " ".join(value.split())
            return f"{name}: {value}" if value else name
    return ""


def _local_part(addr: str) -> str:
    """The part before the last @, lower-cased; the whole string when there is no @
    (Return-Path: <MAILER-DAEMON>)."""
    # Normalised where it is an address, so "ＭＡＩＬＥＲ-ＤＡＥＭＯＮ@…" is the daemon too.
    addr = normalised_or_empty(addr) or addr.strip().strip("<>").lower()
    return addr.rpartition("@")[0] if "@" in addr else addr


def _own(ctx: ClassifyContext) -> frozenset[str]:
    return frozenset(normalised_or_empty(a) for a in ctx.own_addresses) - {""}


def _addresses(value: str) -> list[str]:
    value = unicodedata.normalize("NFKC", value)  # a full-width "＠" is an address too
    found = (normalised_or_empty(addr) for _, addr in getaddresses([value]) if "@" in addr)
    return [addr for addr in found if addr]


def _subject_match(patterns: re.Pattern[str], subject: str) -> str:
    found = patterns.search(" ".join(subject.split()))
    return found.group(0).strip() if found else ""


def _report_type(mail: ParsedMail) -> str:
    """The report-type of a multipart/report ("" for any other message)."""
    content_type = _value(mail, "Content-Type")
    if not (
        mail.content_type.lower().startswith("multipart/report")
        or content_type.lower().startswith("multipart/report")
    ):
        return ""
    found = re.search(r'report-type\s*=\s*"?([\w.-]+)', content_type, re.IGNORECASE)
    return found.group(1).lower() if found else "unknown"


def _list_header(mail: ParsedMail) -> str:
    found = _present(
        mail, "List-Id", "List-Post", "List-Unsubscribe", "X-Mailing-List", "Mailing-List"
    )
    if found:
        return found
    return "Precedence: list" if _value(mail, "Precedence").lower() == "list" else ""


# --------------------------------------------------------------------------- 1. own mail


def own_mail(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """Our own mail coming back (a copy, a forward, a loop): never process it twice."""
    own = _own(ctx)
    if mail.sender is not None and normalised_or_empty(mail.sender.addr) in own:
        return Hit(f"From is our own address {mail.sender.addr}")
    if mail.header(ctx.loop_header) is not None:
        return Hit(f"carries our loop header {ctx.loop_header}")
    for value in mail.header_all("X-Loop"):
        ours = [a for a in _addresses(value) if a in own]
        if ours:
            return Hit(f"X-Loop names our address {ours[0]}")
    if mail.message_id and ctx.is_own_message_id(mail.message_id):
        return Hit(f"Message-ID {mail.message_id} is one of ours")
    return None


# --------------------------------------------------------------------------- 2. bounce

_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mailer_daemon", "postmaster"})
# Subjects of non-delivery reports: Postfix, Gmail, Exim, Exchange, sendmail, qmail, and the
# Chinese providers (QQ/Exmail 退信, NetEase 系统退信, Coremail 投递失败).
_NDR_SUBJECT = re.compile(
    r"^(?:\[[^\]]{0,30}\]\s*)*(?:Undelivered Mail Returned to Sender"
    r"|Delivery Status Notification \((?:Failure|Delay)\)|Mail delivery failed"
    r"|Undeliverable:|Undeliverable mail|Returned mail:|failure notice"
    r"|Delivery Failure|Mail System Error - Returned Mail|Non remis|Unzustellbar"
    r"|(?:系统)?退信|(?:邮件)?投递失败)"
    r"|来自\S+的退信|系统退信",
    re.IGNORECASE,
)


def bounce(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """A delivery failure report: it goes to bounce handling, never to the queue."""
    if mail.bounce is not None:
        who = ", ".join(mail.bounce.recipients) or "unknown recipients"
        how = f" ({mail.bounce.detector})" if mail.bounce.detector else ""
        return Hit(f"delivery-status notification{how} for {who}")
    if _report_type(mail) == "delivery-status":
        return Hit("multipart/report with report-type=delivery-status")
    if mail.sender is not None and _local_part(mail.sender.addr) in _DAEMONS:
        return Hit(f"sent by {mail.sender.addr}")
    subject = _subject_match(_NDR_SUBJECT, mail.subject)
    if subject:
        return Hit(f"non-delivery subject {subject!r}")
    # RFC 3834 section 3.3 has responders send from the null sender too (and IIS uses
    # <MAILER-DAEMON> for them), so the envelope alone decides only when nothing marks the
    # message as an automatic reply.
    if mail.return_path is not None and _auto_reply_signal(mail) is None:
        if mail.return_path == "":
            return Hit("null Return-Path <>")
        if _local_part(mail.return_path) in _DAEMONS:
            return Hit(f"Return-Path <{mail.return_path}>")
    return None


# --------------------------------------------------------------------------- 3. auto-reply

# Subject openings of out-of-office and other automatic replies: Exchange/Outlook (English and
# Chinese UIs), Lotus Notes "Auto:", generic responders, QQ Mail, NetEase, Outlook 自动答复.
_AUTO_SUBJECT = re.compile(
    r"^(?:\[[^\]]{0,30}\]\s*)*(?:Auto:|Auto[- ]?Reply|Auto[- ]?Response|Automatic reply"
    r"|Automatic response|Out of (?:the )?Office|Réponse automatique|Abwesenheitsnotiz"
    r"|自动回复|自動回覆|自动答复|自動回復|休假中|正在休假|休假通知|休假\s*[:：]|[【\[]休假[】\]]"
    r"|不在办公室)(?![a-z])"
    # NetEase puts the owner's name first: "张三 自动回复: 原主题".
    r"|(?:自动回复|自動回覆|自动答复)\s*[:：]"
    r"|\bis out of (?:the )?office\b",
    re.IGNORECASE,
)
# Fixed openings of vendor auto-reply bodies: QQ Mail (two variants), NetEase's default text.
# Only the start of the body is looked at: a person quoting one further down is not a robot.
_AUTO_BODY = re.compile(
    r"\A\s*(?:这是来自QQ邮箱的?(?:假期)?自动回复邮件|这是一封自动回复邮件)"
    r"|This is an automatic reply, confirming that your e-?mail was received",
    re.IGNORECASE,
)
_AUTO_BODY_CHARS = 300
# Headers that only responders set (multi_mail's "Detecting autoresponders" survey: Gmail
# X-Autoreply, cPanel X-Autorespond, DTC X-Autoreply-From/X-Mail-Autoreply, Communigate
# X-Autogenerated, Apple X-Apple-Action: vacation, FirstClass X-FC-MachineGenerated).
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Mail-Autoreply")


def _auto_reply_signal(mail: ParsedMail) -> str | None:
    """Why the message looks machine-generated, or None."""
    auto_submitted = _value(mail, "Auto-Submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in _AUTO_HEADERS:
        value = mail.header(name)
        if value is not None and value.strip().lower() not in ("no", "false"):
            return _present(mail, name)
    if _value(mail, "X-Autogenerated").lower() == "reply":
        return "X-Autogenerated: Reply"
    if _value(mail, "X-Apple-Action").lower() == "vacation":
        return "X-Apple-Action: vacation"
    if _value(mail, "X-FC-MachineGenerated").lower() == "true":
        return "X-FC-MachineGenerated: true"
    for name in ("Precedence", "X-Precedence"):
        precedence = _value(mail, name).lower()
        if precedence == "auto_reply":
            return f"{name}: auto_reply"
        # A list or newsletter says bulk too; then the list rule names it better.
        if precedence in ("bulk", "junk") and not _list_header(mail):
            return f"{name}: {precedence}"
    subject = _subject_match(_AUTO_SUBJECT, mail.subject)
    if subject:
        return f"auto-reply subject {subject!r}"
    body = _AUTO_BODY.search(mail.text[:_AUTO_BODY_CHARS])
    if body:
        return f"auto-reply body {body.group(0).strip()!r}"
    report = _report_type(mail)
    if report and report != "delivery-status":
        return f"automatic report ({report})"
    # Exchange writes X-Auto-Response-Suppress on much ordinary mail (distribution lists) and
    # X-MS-Exchange-Inbox-Rules-Loop on rule forwards, so each alone would drop real
    # submissions; the two together are what its rule-generated replies carry.
    suppress = _value(mail, "X-Auto-Response-Suppress")
    rules_loop = _value(mail, "X-MS-Exchange-Inbox-Rules-Loop")
    if suppress and rules_loop:
        return f"X-Auto-Response-Suppress: {suppress} with X-MS-Exchange-Inbox-Rules-Loop"
    return None


def auto_reply(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """An out-of-office or other automatic reply: answering it would start a loop."""
    signal = _auto_reply_signal(mail)
    return Hit(signal) if signal else None


# --------------------------------------------------------------------------- 4. mailing list


def mailing_list(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """Mail from a list or newsletter (RFC 2369/2919 headers): nobody submitted it to us."""
    found = _list_header(mail)
    return Hit(f"list header {found}") if found else None


# --------------------------------------------------------------------------- 5. spam


def spam(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """A verdict an upstream filter wrote into the headers (SpamAssassin, Rspamd, EOP)."""
    for value in mail.header_all("X-Spam-Flag"):
        if value.strip().lower() == "yes":
            return Hit("X-Spam-Flag: YES")
    for value in mail.header_all("X-Spam-Status"):
        if value.strip().lower().startswith("yes"):
            return Hit(f"X-Spam-Status: {' '.join(value.split())[:60]}")
    for value in mail.header_all("X-Spam"):
        if value.strip().lower() in ("yes", "true"):
            return Hit(f"X-Spam: {value.strip()}")
    for value in mail.header_all("X-Forefront-Antispam-Report"):
        if re.search(r"(?:^|;)\s*SFV:SPM\s*(?:;|$)", value, re.IGNORECASE):
            return Hit("X-Forefront-Antispam-Report: SFV:SPM")
    return None


# --------------------------------------------------------------------------- 6. reply


def reply(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """A message in a thread we know (the caller matched In-Reply-To/References or a token)."""
    if ctx.thread_match:
        return Hit(f"refers to {ctx.thread_match}", refers_to=ctx.thread_match)
    return None


# --------------------------------------------------------------------------- 7. claim


def claim(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    """A rights holder's copyright claim against a work the site published."""
    found = assess(mail, ctx.site_domains, ctx.claim_attachment_texts)
    if found.score < ctx.claim_threshold:
        return None
    reason = f"claim score {found.score:g} >= {ctx.claim_threshold:g}: {', '.join(found.signals)}"
    return Hit(reason, score=found.score)


# --------------------------------------------------------------------------- the chain

#: The rules in the order they are tried; the first that matches decides.
RULES: tuple[Rule, ...] = (
    Rule("own", Kind.OWN, own_mail),
    Rule("bounce", Kind.BOUNCE, bounce),
    Rule("autoreply", Kind.AUTOREPLY, auto_reply),
    Rule("list", Kind.LIST, mailing_list),
    Rule("spam", Kind.SPAM, spam),
    Rule("reply", Kind.REPLY, reply),
    Rule("claim", Kind.CLAIM, claim),
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


# --------------------------------------------------------------------------- reply policy

_NOREPLY_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply"
    r"|bounces?|mailer|notifications?|listserv|majordomo|nobody|auto[-_.]?reply"
    r"|auto[-_.]?responder)(?:[-_.+].*)?$"
    r"|(?:^|[-_.+])no[-_.]?reply(?:$|[-_.+])|(?:^|[-_.+])do[-_.]?not[-_.]?reply(?:$|[-_.+])"
    r"|^owner-|-(?:request|owner|bounces?)(?:\+.*)?$",
)


def is_noreply_address(addr: str) -> bool:
    """Whether ``addr`` belongs to a robot that must never be answered (daemons, no-reply,
    bounce, list-robot and notification senders)."""
    return bool(_NOREPLY_LOCAL.search(_local_part(addr)))


def auto_reply_allowed(
    mail: ParsedMail, verdict: Verdict, ctx: ClassifyContext
) -> tuple[bool, str]:
    """Whether an automatic reply may be sent to ``mail`` at all (RFC 3834 section 2), and why."""
    if verdict.kind in NO_AUTOREPLY_KINDS:
        return False, f"{verdict.kind} messages never get an automatic reply"
    if mail.sender is None or not _usable(mail.sender.addr):
        return False, "no usable sender address"
    target = mail.reply_to[0].addr if mail.reply_to else mail.sender.addr
    if not _usable(target):
        return False, f"no usable reply address in Reply-To {target!r}"
    own = _own(ctx)
    for addr in dict.fromkeys((mail.sender.addr, target)):
        if normalised_or_empty(addr) in own:
            return False, f"{addr} is our own address"
        if is_noreply_address(addr):
            return False, f"{addr} is a no-reply address"
    if mail.return_path == "":
        return False, "null Return-Path <>: the sender accepts no replies"
    if mail.header(ctx.loop_header) is not None:
        return False, f"carries our loop header {ctx.loop_header}"
    if mail.header("X-Loop") is not None:
        return False, f"carries X-Loop: {_value(mail, 'X-Loop')}"
    signal = _auto_reply_signal(mail)
    if signal:
        return False, f"machine-generated ({signal})"
    precedence = _value(mail, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return False, f"Precedence: {precedence}"
    listed = _list_header(mail)
    if listed:
        return False, f"list header {listed}"
    # Exchange's way of asking: AutoReply suppresses replies other than out-of-office ones.
    suppress = {v.strip().lower() for v in _value(mail, "X-Auto-Response-Suppress").split(",")}
    if suppress & {"all", "autoreply"}:
        return False, f"X-Auto-Response-Suppress: {_value(mail, 'X-Auto-Response-Suppress')}"
    return True, f"automatic reply allowed to {target}"


_ADDR = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9\u0080-\uffff-]+(?:\.[A-Za-z0-9\u0080-\uffff-]+)+$"
)


def _usable(addr: str) -> bool:
    return bool(_ADDR.match(addr.strip()))
