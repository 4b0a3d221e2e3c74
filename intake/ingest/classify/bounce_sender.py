"""Mail from the mail system itself: MAILER-DAEMON, postmaster, "Mail Delivery System"."""

from __future__ import annotations

import re

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import DAEMONS, local_part
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule

# Display names that MTAs and providers put on their non-delivery reports: Postfix, Exim and
# sendmail ("Mail Delivery System/Subsystem"), Exchange ("Microsoft Outlook" with a
# MicrosoftExchange… address), QQ and NetEase (系统退信, 邮件系统), Coremail (邮件投递系统).
_DAEMON_NAMES = re.compile(
    r"^(?:Mail Delivery (?:System|Subsystem|Service)|Mail Administrator|Mail System"
    r"|Internet Mail Delivery|Delivery Subsystem|MAILER-DAEMON|Postmaster"
    r"|系统退信|退信服务|邮件系统|邮件投递系统|邮件系统管理员|郵件系統)\s*$",
    re.IGNORECASE,
)
# Exchange's NDR sender: MicrosoftExchange followed by a 32-digit hex GUID.
_EXCHANGE_NDR = re.compile(r"^microsoftexchange[0-9a-f]{32}$")


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    if mail.sender is None:
        return None
    local = local_part(mail.sender.addr)
    if local in DAEMONS or _EXCHANGE_NDR.match(local):
        return Hit(f"sent by {mail.sender.addr}")
    if _DAEMON_NAMES.match(mail.sender.name.strip().strip("\"'")):
        return Hit(f"sent by {mail.sender.name!r} <{mail.sender.addr}>")
    return None


RULE = Rule(
    "bounce.sender",
    Kind.BOUNCE,
    "From is the mail system: mailer-daemon, postmaster, Exchange's NDR sender, or a"
    " delivery-system display name (Mail Delivery System, 系统退信)",
    check,
)
