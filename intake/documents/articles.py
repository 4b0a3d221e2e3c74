"""The article among a mail's body and its documents, and the cover note that came with it.

Contributors send the article either in the body or as a document, with a cover note
("编辑老师您好：稿件见附件，请查收。谢谢！") in the body. When the body points at an
attachment, or holds nothing but greetings, thanks and a signature, the documents are the
article whatever their length; otherwise the longer text wins. The body is never lost: when
the article came from a document, the body is its cover note
(:func:`intake.text.covernote.cover_note`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from intake.documents.extract import count_words
from intake.text import authors
from intake.text.covernote import cover_note, own_words, without_quote

# --------------------------------------------------------------------------- phrase tables

#: Phrases with which a body points at the attached article, in the ways contributors write
#: them (mainland, Taiwan and Hong Kong, Japanese, Korean and English mail).
POINTERS: tuple[str, ...] = (
    # Chinese: "see the attachment", "the attachment is", "please check and accept"
    "见附件", "見附件", "详见附件", "詳見附件", "请见附件", "請見附件", "参见附件", "参阅附件",
    "请看附件", "请阅附件", "敬请查阅附件", "附件为", "附件是", "附件系", "附件乃", "附件中",
    "附件里", "附件內", "在附件", "附件请", "附件請", "附件稿", "附件投稿", "附件文章",
    "附件作品", "以附件", "附件形式", "见附档", "見附檔", "附档", "附檔", "见附文", "见附稿",
    "附稿", "附上", "附呈", "随信附", "隨信附", "随附", "隨附", "附后", "附後", "附寄",
    "请查收", "請查收", "敬请查收", "敬請查收", "烦请查收", "查收", "请审阅附件", "请查阅",
    "稿件见", "文章见", "作品见", "拙作见", "正文见", "全文见", "稿件在附件", "已上传附件",
    "发附件", "附件发", "附件已", "见下附件", "附件，", "附件:", "附件：",
    # Japanese, Korean
    "添付", "첨부",
    # English: phrases, not the bare words ("I felt attached to the old street")
    "please find", "pfa", "herewith", "i attach", "i've attached", "i have attached",
    "i'm attaching", "i am attaching", "see attached", "see the attached", "attached is",
    "attached are", "attached please", "attached you will find", "is attached", "are attached",
    "attached file", "attached document", "attached article", "attached story",
    "attached essay", "attached poem", "attached manuscript", "attached submission",
    "as an attachment", "in the attachment", "see the attachment", "attachment:", "enclosed is",
    "enclosed please", "please find enclosed", "have enclosed", "i enclose",
)  # fmt: skip

#: Attachments a pointer may be about that are not the article: a pointer right after one
#: of these ("照片见附件", "作者简介见附件", "photo attached") says nothing about the text.
NOT_THE_ARTICLE: tuple[str, ...] = (
    "照片", "相片", "图片", "圖片", "配图", "配圖", "插图", "图", "简介", "簡介", "简历",
    "簡歷", "身份证", "身份證", "证件", "银行卡", "銀行卡", "收款", "授权书", "授權書",
    "名片", "photo", "photos", "picture", "pictures", "image", "images", "bio", "cv",
    "résumé", "resume", "headshot",
)  # fmt: skip

# Lines that are a letter's frame, not an article: greetings, thanks, closings, sign-offs,
# mobile clients' signatures and the contributor's details (name, phone, address, ...).
_FRAME_LINE = re.compile(
    r"^\W*(?:"
    # greetings
    r"(?:尊敬的|亲爱的|親愛的)?(?:各位)?(?:编辑|編輯|主编|主編|责编|老师|老師|编辑部|編輯部|"
    r"编辑老师|編輯老師|先生|女士|同志|领导)?(?:们|們)?(?:老师|老師)?(?:您|你)?(?:们|們)?好[!！。.,，~～]*"
    r"|(?:尊敬的|亲爱的)\S{0,12}(?:编辑|老师|编辑部|先生|女士)[:：,，]?"
    r"|\S{0,12}(?:编辑部|編輯部)[:：,，]"
    r"|(?:dear|hello|hi|hey)\b.{0,40}"
    r"|お世話になっております.{0,20}|안녕하세요.{0,20}"
    # thanks, wishes and closings
    r"|(?:非常|十分|万分|萬分)?(?:谢谢|謝謝|感谢|感謝|多谢|多謝)(?:您|你|老师|编辑)?(?:的)?"
    r"(?:审阅|审稿|辛苦|关注|支持|百忙之中)?[!！。.，,~～]*"
    r"|(?:此致|敬礼|敬禮|祝好|顺祝|順祝|顺颂|順頌|祝(?:编安|編安|工作顺利|身体健康|安好|愉快)"
    r"|编安|編安|商祺|时祺|时绥|敬上|谨上|拜上|叩上|顿首|盼复|盼回复|期待回复|期待您的回复"
    r"|静候佳音|靜候佳音|望采用|望採用|盼采用|请多指教|請多指教|不吝赐教|敬请斧正|请斧正)"
    r".{0,20}"
    r"|(?:thanks?|thank you|many thanks|best|regards|best regards|kind regards|sincerely"
    r"|yours(?: sincerely| truly)?|cheers)\b.{0,30}"
    # mobile and webmail signatures
    r"|(?:发自|發自|来自|來自|sent from|get outlook for)\s*.{0,40}"
    r"|(?:-{2,}|_{3,}|={3,})\s*"
    r")\s*$",
    re.IGNORECASE,
)
# A line of the contributor's details: "作者：李明", "电话：138…", "地址：…", "邮编 518000".
_DETAIL_LINE = re.compile(
    r"^\W*(?:作者|笔名|筆名|真名|真实姓名|真實姓名|姓名|署名|电话|電話|手机|手機|联系电话|"
    r"聯繫電話|联系方式|聯繫方式|微信|qq|邮箱|郵箱|e-?mail|地址|通讯地址|通訊地址|联系地址|邮编|"
    r"郵編|邮政编码|单位|單位|工作单位|身份证|身份證|开户行|開戶行|开户银行|账号|帳號|账户|卡号|"
    r"银行|tel|phone|mobile|address|name)\s*[:：]?.{0,80}$"
    r"|^\W*1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}\W*$",
    re.IGNORECASE,
)
# A bare name line under a letter ("张三", "李小明 敬上"): at most four Han or two words.
_NAME_LINE = re.compile(r"^\W*(?:[\u4e00-\u9fff·]{2,5}|[A-Za-z]+(?: [A-Za-z]+)?)\W*$")


def _phrase(text: str) -> str:
    """A literal phrase; a Latin one must stand as whole words ("pfa" is not in "pfaff")."""
    pattern = r"\s+".join(re.escape(word) for word in text.split())
    return rf"(?<![a-z]){pattern}(?![a-z])" if text.isascii() else pattern


_POINTER = re.compile("|".join(_phrase(p) for p in POINTERS), re.IGNORECASE)
_NOT_ARTICLE = re.compile(
    "(?:" + "|".join(re.escape(p) for p in NOT_THE_ARTICLE) + r")\W{0,3}(?:\S{0,4})$",
    re.IGNORECASE,
)

_COVER_NOTE_CHARS = 200  # a body shorter than this is a cover note when a document is longer
_DOCUMENT_RATIO = 3  # a document this many times longer than the body is the article
_LETTER_CHARS = 30  # what is left of a body without its frame, for it to be only a frame


@dataclass(frozen=True, slots=True)
class Chosen:
    """The article, where it came from ("body" or the documents' names), and why."""

    text: str
    source: str
    reason: str  # "pointer", "letter only", "short body", "longer document", "body", ...

    @property
    def from_documents(self) -> bool:
        return self.source != "body"


def choose(body_text: str, documents: Sequence[tuple[str, str]]) -> Chosen:
    """The article among ``body_text`` and the documents' texts (``(filename, text)``).

    The documents win when the body points at an attachment, is only a letter's frame
    (greetings, thanks, a signature, the contributor's details), is short, or is much
    shorter than they are. Several documents are all kept, each under a header line with
    its file name.
    """
    body = own_words(body_text)
    docs = [(name, text.strip()) for name, text in documents if text.strip()]
    if not docs:
        return Chosen(body, "body", "no document text")
    body_chars = count_words(body)[0]
    doc_chars = sum(count_words(text)[0] for _, text in docs)
    reason = ""
    if body_chars == 0:
        reason = "empty body"
    elif points_at_attachment(body):
        reason = "pointer"
    elif is_letter_only(body):
        reason = "letter only"
    elif body_chars < _COVER_NOTE_CHARS and doc_chars >= body_chars:
        reason = "short body"
    elif body_chars * _DOCUMENT_RATIO <= doc_chars:
        reason = "longer document"
    if not reason:
        return Chosen(body, "body", "body")
    source = ", ".join(name for name, _ in docs)
    if len(docs) == 1:
        return Chosen(docs[0][1], source, reason)
    joined = "\n\n".join(f"=== {name} ===\n{text}" for name, text in docs)
    return Chosen(joined, source, reason)


@dataclass(frozen=True, slots=True)
class Article:
    """What a new submission's mail makes: the article chosen, and who wrote it."""

    chosen: Chosen
    author: authors.Author


def read(body_text: str, documents: Sequence[tuple[str, str]]) -> Article:
    """The article among the body and the documents, and the contributor's details from the
    cover note (or the body's last lines when it is the article) and the documents."""
    chosen = choose(body_text, documents)
    texts = [text for _, text in documents if text.strip()]
    if chosen.from_documents:
        found = authors.read(cover_note(body_text, chosen.source), texts)
    else:
        found = authors.read(without_quote(body_text), texts, body_is_article=True)
    return Article(chosen, found)


def choose_article(body_text: str, documents: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """:func:`choose` as ``(text, source)``."""
    chosen = choose(body_text, documents)
    return chosen.text, chosen.source


def points_at_attachment(body: str) -> bool:
    """Whether the body says the article is attached (a pointer not about a photo, a bio…)."""
    for found in _POINTER.finditer(body):
        before = body[max(0, found.start() - 8) : found.start()]
        if not _NOT_ARTICLE.search(before):
            return True
    return False


def is_letter_only(body: str) -> bool:
    """Whether the body is only a letter's frame: greetings, thanks, closings, signatures and
    the contributor's details, with at most a short sentence besides."""
    rest = [
        line
        for line in body.splitlines()
        if line.strip()
        and not _FRAME_LINE.match(line.strip())
        and not _DETAIL_LINE.match(line.strip())
        and not _NAME_LINE.match(line.strip())
    ]
    return count_words("\n".join(rest))[0] < _LETTER_CHARS
