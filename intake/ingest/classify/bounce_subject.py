"""Non-delivery reports that say so in the subject, in the wording of the MTAs that send them."""

from __future__ import annotations

import re

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import phrases, subject_match
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule

#: Subject openings of non-delivery and delay reports. Postfix, sendmail, Exim, qmail, Gmail,
#: Exchange/Outlook (its UI languages), Lotus Notes/Domino, Novell GroupWise, old
#: "Returned Mail - Error During Delivery" gateways, and the Chinese providers: QQ/Exmail
#: 退信, NetEase 系统退信, Coremail 投递失败, Sina/Sohu 邮件退回, Aliyun 无法投递.
SUBJECTS: tuple[str, ...] = (
    "Undelivered Mail Returned to Sender",
    "Undelivered Mail",
    "Undelivered Message",
    "Undeliverable",
    "Undeliverable Mail",
    "Undeliverable message",
    "Delivery Status Notification",
    "Delivery Notification: Delivery has failed",
    "Delivery has failed",
    "Delivery Failure",
    "Delivery failed",
    "Delivery Failed Notification",
    "Delivery Problem",
    "Mail delivery failed",
    "Mail delivery failure",
    "Mail Delivery Problem",
    "Mail Delivery Subsystem",
    "Mail System Error - Returned Mail",
    "Message delivery failure",
    "Message not delivered",
    "Message could not be delivered",
    "Message Undeliverable",
    "Non-delivery report",
    "Nondeliverable mail",
    "Non delivery notification",
    "Returned mail",
    "Returned Mail - Error During Delivery",
    "Returned to sender",
    "failure notice",
    "failure delivery",
    "Warning: could not send message",
    "DELIVERY FAILURE",
    "Permanent Delivery Failure",
    "Unzustellbar",
    "Nicht zustellbar",
    "Non remis",
    "Non distribuable",
    "Non recapitabile",
    "No se puede entregar",
    "Imposible entregar",
    "Não é possível entregar",
    "Onbestelbaar",
    "Kan ikke leveres",
    "Olevererbart",
    "Ei voitu toimittaa",
    "Nie można dostarczyć",
    "Nedoručitelné",
    "Недоставляемое сообщение",
    "Не удается доставить",
    "配信不能",
    "配信エラー",
    "전달되지 않음",
    "退信",
    "系统退信",
    "系統退信",
    "邮件退信",
    "退回的邮件",
    "邮件退回",
    "邮件被退回",
    "投递失败",
    "邮件投递失败",
    "发送失败通知",
    "无法投递",
    "邮件无法投递",
    "郵件無法傳遞",
    "無法傳遞",
)

_SUBJECT = re.compile(
    # openings, after any [tags] a gateway adds, ending where the subject does or at a
    # separator: "退信：…" and "Undeliverable: …" are reports, "退信的故事" and
    # "Undeliverable Love" contributors' titles
    r"^(?:\[[^\]]{0,30}\]\s*)*(?:"
    + phrases(*SUBJECTS)
    + r")(?=\s*(?:$|[:：/(（\[【\-—,，.;；!！])|通知|报告|報告|提醒)"
    # QQ's "来自postmaster@126.com的退信", and NetEase's "系统退信/Systems bounce"
    r"|^来自\S+的退信|系统退信"
    # Hotmail's junk-mail feedback report (JMRP): "complaint about message from 192.0.2.1"
    r"|^complaint about message from\s+\S",
    re.IGNORECASE,
)


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    subject = subject_match(_SUBJECT, mail.subject)
    return Hit(f"non-delivery subject {subject!r}") if subject else None


RULE = Rule(
    "bounce.subject",
    Kind.BOUNCE,
    "a non-delivery or delay report's subject (Undeliverable, Returned mail, 退信, …)",
    check,
)
