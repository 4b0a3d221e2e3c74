"""Out-of-office and other automatic replies that say so in the subject, in many languages."""

from __future__ import annotations

import re

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import phrases, subject_match
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule

#: Subject openings of automatic replies. Discourse's receiver list (Auto:, Automatic reply,
#: Autosvar, Automatisk svar, Automatisch antwoord, Abwesenheitsnotiz, Risposta Non al
#: computer, Auto Response, Respuesta automática, Fuori sede, Out of Office, Frånvaro,
#: Réponse automatique), Outlook's "Automatic reply:" in the languages of its UI, Lotus Notes,
#: and the Chinese, Japanese and Korean mail services (QQ, NetEase, Coremail, Exmail).
SUBJECTS: tuple[str, ...] = (
    # English
    "Auto:", "Automatic reply", "Automatic response", "Automated reply", "Automated response",
    "Auto Reply", "Auto-Reply", "AutoReply", "Auto Response", "Auto-Response", "AutoResponse",
    "Autoresponder", "Out of Office", "Out of the Office", "Out-of-Office", "OOO:",
    "Out of office reply", "Away from the office", "Away from my desk", "Vacation reply",
    "On vacation:", "On leave:", "Holiday autoreply",
    # Scandinavian, Dutch, German
    "Autosvar", "Automatisk svar", "Automatiskt svar", "Frånvaro", "Frånvaromeddelande",
    "Fravær", "Fraværsmelding", "Automatisch antwoord", "Afwezig:", "Afwezigheidsbericht",
    "Abwesenheitsnotiz", "Automatische Antwort", "Abwesend:", "Abwesenheit:",
    # Romance languages
    "Risposta Non al computer", "Risposta automatica", "Fuori sede", "Fuori ufficio",
    "Respuesta automática", "Respuesta automatica", "Fuera de la oficina", "Ausente:",
    "Resposta automática", "Ausência temporária", "Fora do escritório",
    "Réponse automatique", "Absence du bureau", "Absent du bureau", "Message d'absence",
    "Răspuns automat",
    # Central and Eastern Europe, the Baltics, Finland, Greece, Turkey
    "Automātiskā atbilde", "Automatinis atsakymas", "Automaatvastus", "Automaatne vastus",
    "Automaattinen vastaus", "Poissa toimistolta",
    "Odpowiedź automatyczna", "Automatyczna odpowiedź", "Poza biurem",
    "Automatická odpověď", "Automatická odpoveď", "Mimo kancelář", "Mimo kanceláriu",
    "Automatikus válasz", "Házon kívül", "Automatski odgovor", "Samodejni odgovor",
    "Автоматический ответ", "Автоответ", "Автоматична відповідь", "Автоматичен отговор",
    "Αυτόματη απάντηση", "Otomatik yanıt", "Otomatik cevap", "Ofis dışında",
    # Middle East, South and South-East Asia
    "תשובה אוטומטית", "رد تلقائي", "رد آلي", "Trả lời tự động", "ตอบกลับอัตโนมัติ",
    "Balasan otomatis", "Balasan automatik", "स्वचालित उत्तर",
    # Chinese, Japanese, Korean
    "自动回复", "自動回覆", "自动答复", "自動答覆", "自動回復", "自动应答", "自動應答",
    "休假中", "正在休假", "休假通知", "休假:", "休假：", "【休假】", "[休假]",
    "不在办公室", "不在辦公室", "外出通知",
    "自動応答", "自動返信", "不在通知", "自動送信",
    "자동 회신", "자동 응답", "자동회신", "자동응답", "부재중",
)  # fmt: skip

# A letter of the same word may not follow ("Automation", "Auto Responses"); CJK may.
_WORD_GOES_ON = r"(?![a-zà-ɏͰ-ϿЀ-ӿ])"
_SUBJECT = re.compile(
    r"^(?:\[[^\]]{0,30}\]\s*)*(?:" + phrases(*SUBJECTS) + ")" + _WORD_GOES_ON +
    # NetEase and Coremail put the owner's name first: "张三 自动回复: 原主题".
    r"|^.{0,40}?(?:自动回复|自動回覆|自动答复|自動回復)\s*[:：]"
    r"|\bis out of (?:the )?office\b",
    re.IGNORECASE,
)


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    subject = subject_match(_SUBJECT, mail.subject)
    return Hit(f"auto-reply subject {subject!r}") if subject else None


RULE = Rule(
    "autoreply.subject",
    Kind.AUTOREPLY,
    "an automatic reply's subject opening in one of 40 languages (Automatic reply,"
    " Abwesenheitsnotiz, automātiskā atbilde, 自动回复, …)",
    check,
)
