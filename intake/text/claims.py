"""Score how much a message reads like a rights holder's copyright claim against the site."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from intake.core.mail import ParsedMail
from intake.text.htmltext import html_to_text

Demand = Literal["remove", "fee", "both", "unknown"]


def _en(words: str) -> str:
    # \b is useless next to Chinese: CJK characters are \w, so "根据DMCA规定" has no boundary.
    return rf"(?<![a-z])(?:{words})(?![a-z])"


# Topic words. A family counts once however often it occurs: an essay on copyright law says
# 版权 fifty times and must not outscore a two-line complaint that says it once.
# (signal, weight, is a complaint, pattern)
_TOPIC: tuple[tuple[str, float, bool, re.Pattern[str]], ...] = tuple(
    (name, weight, complaint, re.compile(pattern, re.IGNORECASE))
    for name, weight, complaint, pattern in (
        (
            "infringement",
            2.0,
            True,
            r"侵权|侵犯.{0,6}(?:著作权|版权|权益|权利)|" + _en(r"infring\w*"),
        ),
        ("lawyer_letter", 2.0, True, r"律师函|" + _en(r"cease[ -]and[ -]desist")),
        ("dmca", 2.0, True, _en("dmca")),
        (
            "unauthorized",
            1.0,
            True,
            r"未经.{0,4}(?:授权|许可|同意)|未获.{0,4}授权|没有.{0,4}授权|擅自|"
            + _en(
                r"unauthori[sz]ed|without (?:[a-z]+ ){0,2}(?:permission|authori[sz]ation"
                r"|consent|licen[cs]e)"
            ),
        ),
        ("plagiarism", 1.0, True, r"盗用|抄袭|剽窃|" + _en(r"plagiari\w*")),
        (
            # "贵网转载了我的文章", "你们网站用了我的照片": the accusation itself, in the
            # perfective, so that "可以转载我的文章吗" is not one.
            "reprinted_our_work",
            1.0,
            True,
            r"(?:转载|转发|刊登|刊发|发布|盗用|使用|转|用|登|发)了(?:我|本人|我们|我方|我社|我司"
            r"|我单位|我刊|我报)|"
            + _en(r"(?:republished|reprinted|reposted|copied|used|stole|took) (?:my|our)"),
        ),
        (
            # What a wronged author says when no legal word comes to mind.
            "no_consent",
            1.0,
            True,
            r"谁(?:允许|同意|授权)|(?:没|未)(?:有)?(?:经过|征得|得到|取得)?(?:我|本人|作者)?的?"
            r"(?:同意|允许|授权|许可)|没(?:有)?(?:署名|署我的名|给稿费|支付稿费|付稿费|联系过?我)"
            r"|未署名|从未授权|"
            + _en(
                r"without (?:asking|crediting|credit|attribution)|never (?:gave|granted|asked)"
                r"|no (?:licen[cs]e|permission) (?:was )?(?:given|granted|obtained)"
            ),
        ),
        ("takedown", 1.0, True, _en(r"take ?down")),
        ("copyright", 1.0, False, r"版权|著作权|" + _en(r"copyright\w*")),
        ("reprint", 0.5, False, r"转载|" + _en(r"reprint\w*|republish\w*|repost\w*")),
        (
            "own_work",
            0.5,
            False,
            r"(?:是|系)?我(?:拍|写|画|摄|创作)的|" + _en(r"is my (?:work|photo)"),
        ),
    )
)
#: How near (in characters) a complaint word must be to words naming the site or its page
#: for the complaint to be aimed at the site. A letter says "贵网站未经许可转载…" in one
#: breath; a cover note's 贵报 and the 侵权 of the court report under it are paragraphs apart.
AIM_CHARS = 150
# Traditional forms of the characters the phrase tables use, read as the simplified ones
# ("貴網站未經授權轉載…侵犯著作權，請刪除").
_SIMPLIFIED = str.maketrans(
    "權經轉載貴網報師費償賠許請刪盜竊襲發佈誰給聯繫過們獲攝圖傳將號條說話證據違樣禁謝問嗎採態歡為",
    "权经转载贵网报师费偿赔许请删盗窃袭发布谁给联系过们获摄图传将号条说话证据违样禁谢问吗采态欢为",
)
# An author's or publisher's reservation of rights ("未经许可不得转载", "版权所有，翻印必究",
# "Unauthorized reproduction is prohibited"): it forbids what someone may do one day, and
# accuses nobody. Blanked out before complaint words are looked for.
_RESERVATION = re.compile(
    r"未经[^。；;！!\n]{0,24}(?:许可|授权|同意)[^。；;！!\n]{0,12}(?:不得|禁止|严禁|请勿|谢绝|不可)"
    r"[^。；;！!\n]*|(?:版权所有|著作权所有)?[，,、\s]*(?:翻印|侵权|盗版|违者)必究"
    r"|如有侵权[^。；;\n]*"
    # "专投贵刊，未授权其他任何媒体": the one-piece-one-outlet promise of a cover note.
    r"|(?:未|没有?|不曾|从未)[^。；;，,\n]{0,4}(?:授权|许可|同意|投)给?(?:其他|其它|别的|任何|他人|第三)"
    r"[^。；;\n]*|未一稿多投|"
    + _en(
        r"unauthori[sz]ed (?:reproduction|use|copying|distribution|duplication)[^.\n]{0,40}"
        r"(?:prohibited|forbidden|not permitted)|may not be (?:reproduced|republished|copied"
        r"|reprinted|used)[^.\n]{0,80}without[^.\n]*|all rights reserved"
    ),
    re.IGNORECASE,
)
_TOPIC_CAP = 2.0  # topic words alone never reach the default threshold of 3.0
# Topic words of a message whose complaint (if any) is not aimed at the site.
_UNAIMED_TOPIC_CAP = 1.5
_TARGET_CAP = 2.5
# Naming the site and asking for something (a fee, a correction) is what contributors do too:
# without a complaint word the target and demand together add at most this much.
_UNCOMPLAINED_CAP = 1.0

# Words that aim the message at the site. "贵" after 宝/珍/昂… is "precious/expensive", not "your".
_ADDRESSED = re.compile(
    r"(?<![宝珍昂名富高可尊显权华])贵(?:网站?|站|报社?|刊|平台|方|单位|公司|司|社|媒体)"
    r"|你(?:们)?(?:的)?(?:网站|网|站|平台|报社|报纸|媒体|公众号)|你方|"
    # "你们未经我同意转载了…", "你们用了我的照片…": 你们 straight before the deed itself.
    r"你们(?=\s*(?:未经|擅自|私自|没有?经|没有?问|不经|盗|抄|转载|转了|登了|用了|使用|刊登|发布|发表))|"
    + _en(
        r"your (?:web ?site|site|news ?site|news ?paper|paper|platform|publication|portal"
        r"|outlet)|you(?: have)? (?:re)?(?:published|posted|printed|copied|used)"
    ),
    re.IGNORECASE,
)
# The site's reprint notice: works marked "来源: XXX (非本网)" come from other media.
_SOURCE_LINE = re.compile(r"来源\s*[:：]\s*[^\n，。；;,\"”」』]{1,40}")
_NOT_OURS = re.compile(r"非本(?:网|站)")

_REMOVE = re.compile(
    r"删除|删掉|下架|撤下|撤稿|撤除|移除|"
    + _en(r"remov(?:e|al)|take (?:it |this |them )?down|takedown|delete"),
    re.IGNORECASE,
)
_FEE = re.compile(
    r"稿酬|稿费|支付|付费|赔偿|补偿|报酬|使用费|"
    + _en(r"pay(?:ment)?|fees?|compensat\w*|royalt\w*|remuneration"),
    re.IGNORECASE,
)

# Language of contributors, not claimants: a permission question or a consent reply.
_PERMISSION_QUESTION = re.compile(
    r"(?:请问|能否|可否|是否可以|是否能|可不可以|可以不可以).{0,12}(?:转载|刊登|刊发|发表|发布|采用|使用)"
    r"|(?:转载|刊登|刊发|发表|发布|采用)吗|"
    + _en(r"(?:may|can|could) (?:you|i|we) (?:re)?(?:publish|print|post)"),
    re.IGNORECASE,
)
# A contributor's cover note offers a piece for review; a claimant never does.
_OFFERS_PIECE = re.compile(
    r"(?:投上|奉上|呈上|寄上|投寄|发上)(?:拙作|拙文|拙稿|小文|习作|新作|稿件)"
    r"|拙(?:作|文|稿)一(?:篇|首|组|则)"
    r"|(?:望|请|敬请|恳请)(?:编辑)?(?:老师)?(?:审阅|审稿|斧正|指正|赐教|采用|录用|刊用)"
    r"|不吝赐教"
    r"|(?:附上|奉上|发上|投|再投|写了|采写了?|翻译了?|译了)(?:一|两|几)(?:篇|首|组|则)"
    r"|(?:以下|下面)是?我?(?:采写|撰写|写|翻译)?的?(?:一篇|稿件|来稿)|"
    + _en(
        r"(?:submit|consider|offer|sending|send)\s+(?:you\s+)?(?:the |my |an? |this )?"
        r"(?:attached |following |enclosed |below )?(?:essay|article|piece|story|poem|manuscript)"
        r"|(?:below|attached|enclosed) is (?:an|my) (?:essay|article|piece|story|poem)"
        r"|an? (?:essay|article|piece|story) for your"
    ),
    re.IGNORECASE,
)
# A contributor thanking us for publishing, before asking after the fee ("感谢贵网刊登了我的文章").
_THANKS = re.compile(
    r"(?:感谢|谢谢|多谢)[^。！!？?\n]{0,12}(?:刊登|刊发|发表|采用|录用|刊用|转载|发布|用)"
    r"|(?:刊登|刊发|发表|采用|录用|刊用|用)了我的[^。！!？?\n]{0,12}(?:感谢|谢谢|多谢)|"
    + _en(r"thank(?:s| you)[^.!?\n]{0,30}(?:publishing|running|printing|using|featuring)"),
    re.IGNORECASE,
)
# Asking how the fee is paid ("稿费怎么领？", "请问稿酬标准"): a contributor's question; a
# claimant demands payment ("请支付稿酬").
_FEE_QUESTION = re.compile(
    r"(?:请问|问一下|想问)[^。！!\n]{0,12}(?:稿费|稿酬)"
    r"|(?:稿费|稿酬)[^。！!？?\n]{0,6}(?:怎么|如何|什么时候|何时|多少|标准|哪里)"
)
_CONSENT_OPENING = re.compile(r"\A\s*(?:我)?同意|\A\s*(?:i )?agree", re.IGNORECASE)
# Not our own "[投稿 #123]" token or "来稿已收到": those mark our threads, not a sender's words.
_SUBMISSION_SUBJECT = re.compile(r"(?<!\[)投稿(?!\s*#\d)|来稿(?!已收到)")
# A subject that opens by offering a piece ("投稿：…", "【来稿】…", "稿件：…", "征文"): a
# contributor's, weighing against a claim more than a mention further on.
_SUBMISSION_OPENING = re.compile(
    r"^\s*(?:(?:re|fwd?|回复|转发)\s*[:：]\s*)*[【\[(（]?\s*(?:投稿|来稿|來稿|稿件|投稿件|征文|徵文|参赛|參賽"
    r"|submission)(?!\s*#\d)\s*[】\])）]?\s*[:：\-—《“\s]",
    re.IGNORECASE,
)

#: A letter is a page or two: an attachment longer than this is a book, a thesis or an
#: article, whose licence page or copyright notice is no complaint against the site.
LETTER_CHARS = 5000
# Marks of a book or a long work rather than a letter.
_BOOK_MARKS = re.compile(
    r"目\s*录|ISBN|第[一1]章|第[一1]回|在版编目|CIP\s*数据|独创性声明|版权使用授权书"
    r"|(?<![a-z])(?:table of contents|chapter 1|chapter one)(?![a-z])"
    r"|版权所有[，,、\s]*(?:翻印|侵权)必究|all rights reserved|creative commons|知识共享"
    r"|许可协议进行许可|(?<![a-z])CC[ -]BY(?![a-z])|project gutenberg"
    r"|GNU (?:Free Documentation|General Public) License",
    re.IGNORECASE,
)
# A notice listing a hundred infringing pages is still a one-page letter.
_ANY_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def letter_like(text: str) -> bool:
    """Whether an attachment's text reads like a letter (a lawyer's letter, a notice) and not
    like a book, whose licence and copyright pages say 版权 and 侵权 to every reader."""
    stripped = text.strip()
    words = _ANY_URL.sub("", stripped)
    return 0 < len(words.strip()) <= LETTER_CHARS and not _BOOK_MARKS.search(stripped)


# Where a reply's quotation of an earlier message starts (QQ/Foxmail, 163, Gmail, Outlook).
_QUOTE_START = re.compile(
    r"^\s*-{2,}\s*(?:原始邮件|原始信件|Original(?: Message)?)\s*-{2,}\s*$"
    r"|^\s*On .{4,200} wrote:\s*$"
    r"|^\s*在.{4,200}写道\s*[:：]\s*$"
    r"|^.{2,200}于.{4,100}写道\s*[:：]\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_QUOTE = re.compile(
    r"^\s*(?:发件人|From)\s*[:：].*\n(?:.*\n){0,2}?\s*(?:发送时间|时间|日期|Sent|Date)\s*[:：]",
    re.IGNORECASE | re.MULTILINE,
)
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|回复|回覆|答复)\s*[:：]", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|转发|转寄)\s*[:：]", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(r"^\s*(?:re|fwd?|回复|回覆|答复|转发|转寄)\s*[:：]\s*", re.IGNORECASE)

_TITLE = re.compile(r"《([^《》\n]{1,60})》")
# 《…》 also names newspapers and magazines; a claim usually names the outlet before the work.
_OUTLET = re.compile(r"(?:报|刊|杂志|周刊|月刊|网|频道|出版社|电视台|电台)$")

# Characters of a URL after the host (RFC 3986), ASCII only so that the Chinese text that
# follows a link without a space is not swallowed into it.
_URL_TAIL = r"(?::\d+)?(?:[/?#][A-Za-z0-9_\-.~:/?#\[\]@!$&'()*+,;=%]*)?"


@dataclass(frozen=True, slots=True)
class ClaimAssessment:
    """How claim-like a message is, and what a claim handler needs to act on it."""

    score: float
    signals: tuple[str, ...]  # "name:what matched", in the order they were scored
    urls: tuple[str, ...]  # URLs on the site's own domains, in order of appearance
    work_title: str
    demand: Demand


def assess(
    mail: ParsedMail, site_domains: Sequence[str], attachment_texts: Sequence[str] = ()
) -> ClaimAssessment:
    """Score ``mail`` (and its letter-like attachments) as a copyright claim against the site.

    The score adds three parts, each visible in ``signals``: what the message talks about
    (topic words, at most 2.0); whether it is about this site (a link to one of
    ``site_domains`` 1.5, words addressed to the site 1.0, a quoted 来源 line 1.0; at most
    2.5); and a demand aimed at the site (1.0). They add up in full only when a complaint word
    (侵权, 未经授权, 律师函, DMCA, 用了我的照片, …) is aimed at the site: in the subject, or
    within :data:`AIM_CHARS` of words naming the site or a link to it in the same letter.
    Otherwise topic words add at most 1.5 and the target and demand together at most 1.0.
    Reservations of rights ("未经许可不得转载", "版权所有，翻印必究") are no complaint, and
    traditional characters read as simplified. Each contributor habit takes score off: a
    cover note offering a piece 2.0, a subject opening with 投稿 1.0 on top of the 1.0 any
    mention of 投稿/来稿 in it takes, a permission question, a consent reply, thanks for
    publishing and a question about the fee 1.0 each. With the default threshold of 3.0,
    talking about copyright never makes a claim on its own, and nor does naming the site.
    """
    body = _own_words(mail, mail.text or (html_to_text(mail.html) if mail.html else ""))
    # Claim signals come from letters: the body and short letter-like attachments only.
    texts = (mail.subject, body, *(t for t in attachment_texts if letter_like(t)))
    # Read in simplified characters, without reservations of rights (same offsets per text).
    units = tuple(_readable(t) for t in texts)
    text = "\n".join(units)
    signals: list[str] = []

    topic = 0.0
    complaint = False
    for name, weight, is_complaint, pattern in _TOPIC:
        found = pattern.search(text)
        if found:
            topic += weight
            complaint = complaint or is_complaint
            signals.append(f"{name}:{found.group(0)}")

    # The HTML part may hold links that the plain part shows only as "this page".
    html_body = _own_words(mail, html_to_text(mail.html)) if mail.html else ""
    urls = site_urls((*texts, html_body), site_domains)
    addressed = _ADDRESSED.search(text)
    sources = list(_SOURCE_LINE.finditer(text))
    source = next((m for m in sources if _NOT_OURS.search(m.group(0))), None) or (
        sources[0] if sources else None
    )
    target = 0.0
    if urls:
        target += 1.5
        signals.append(f"site_url:{urls[0]}")
    if addressed:
        target += 1.0
        signals.append(f"addressed:{addressed.group(0)}")
    # A 来源 line is a citation in any essay; it points at us only when it carries the site's
    # own 非本网 marker or sits beside a link to the site. Words addressed to the site are not
    # enough: a contributor's cover note says 贵网 above an essay full of citations.
    if source and (_NOT_OURS.search(source.group(0)) or urls):
        target += 1.0
        signals.append(f"source_line:{source.group(0).strip()}")
    target = min(target, _TARGET_CAP)

    demand = _demand(text)
    aimed = 1.0 if demand != "unknown" and target > 0 else 0.0
    if aimed:
        signals.append(f"demand:{demand}")
    at_site = complaint and _complaint_at_site(units, site_domains)
    if complaint and not at_site:
        # 侵权 in a court report, 贵报 in the cover note above it: talk, not a complaint.
        signals.append("not_claim:complaint_not_at_site")
    if at_site:
        score = min(topic, _TOPIC_CAP) + target + aimed
    else:
        score = min(topic, _UNAIMED_TOPIC_CAP) + min(target + aimed, _UNCOMPLAINED_CAP)

    if _SUBMISSION_OPENING.search(mail.subject):
        score -= 1.0  # on top of the mention below: the subject offers a piece
        signals.append("not_claim:submission_subject_opening")
    if _OFFERS_PIECE.search(f"{mail.subject}\n{body}"):
        # A claimant never offers a piece for review: whatever the piece says about 侵权 and
        # 律师函 is its subject matter, so this counts as much as a subject offering one.
        score -= 2.0
        signals.append("not_claim:offers_piece")
    for name, hit in (
        ("submission_subject", _SUBMISSION_SUBJECT.search(mail.subject)),
        ("permission_question", _PERMISSION_QUESTION.search(f"{mail.subject}\n{body}")),
        ("consent_opening", _CONSENT_OPENING.search(body)),
        ("thanks_for_publishing", _THANKS.search(_readable(f"{mail.subject}\n{body}"))),
        ("fee_question", _FEE_QUESTION.search(_readable(body))),
    ):
        if hit:
            score -= 1.0
            signals.append(f"not_claim:{name}")

    return ClaimAssessment(
        score=round(max(score, 0.0), 2),
        signals=tuple(signals),
        urls=urls,
        work_title=work_title(mail.subject, texts[1:]),
        demand=demand,
    )


def _readable(text: str) -> str:
    """``text`` as complaint words are looked for in it: simplified characters, and its
    reservations of rights blanked out (offsets are kept)."""
    text = text.translate(_SIMPLIFIED)
    return _RESERVATION.sub(lambda m: " " * len(m.group(0)), text)


def _complaint_at_site(units: Sequence[str], site_domains: Sequence[str]) -> bool:
    """Whether a complaint word is aimed at the site: in the subject (the letter's headline),
    or within :data:`AIM_CHARS` of words naming the site or a link to its pages in the same
    letter. A complaint word in a court report is not aimed at the editor its cover note
    greets."""
    subject, *letters = units
    if any(p.search(subject) for _, _, is_complaint, p in _TOPIC if is_complaint):
        return True
    url_pattern = _site_url_pattern(site_domains)
    for letter in letters:
        targets = [m.span() for m in _ADDRESSED.finditer(letter)]
        targets += [m.span() for m in _SOURCE_LINE.finditer(letter) if _NOT_OURS.search(m[0])]
        if url_pattern:
            targets += [m.span() for m in url_pattern.finditer(letter)]
        if not targets:
            continue
        for _, _, is_complaint, pattern in _TOPIC:
            if not is_complaint:
                continue
            for found in pattern.finditer(letter):
                start, end = found.span()
                if any(a - AIM_CHARS <= end and start <= b + AIM_CHARS for a, b in targets):
                    return True
    return False


def _site_url_pattern(site_domains: Sequence[str]) -> re.Pattern[str] | None:
    domains = {d.strip().lower().strip(".") for d in site_domains} - {""}
    if not domains:
        return None
    hosts = "|".join(re.escape(d) for d in sorted(domains, key=len, reverse=True))
    # Not preceded by a host or mailbox character (tougao@example.com is an address, not a
    # page; notexample.com is someone else's), and not continued into a longer host name.
    return re.compile(
        rf"(?<![A-Za-z0-9_.@-])(?:https?://)?(?:[a-z0-9-]+\.)*(?:{hosts})"
        rf"(?![A-Za-z0-9_-]|\.[A-Za-z0-9]){_URL_TAIL}",
        re.IGNORECASE,
    )


def site_urls(texts: Iterable[str], site_domains: Sequence[str]) -> tuple[str, ...]:
    """URLs in ``texts`` whose host is one of ``site_domains`` or a subdomain of one."""
    pattern = _site_url_pattern(site_domains)
    if pattern is None:
        return ()
    found: dict[str, None] = {}
    for text in texts:
        for match in pattern.finditer(text):
            url = match.group(0).rstrip(".,;:!?)]'")
            # A bare host name ("host mail.example.com said") names a machine, not a page.
            if url.lower().startswith(("http://", "https://")) or "/" in url:
                found.setdefault(url, None)
    return tuple(found)


def work_title(subject: str, texts: Iterable[str] = ()) -> str:
    """The claimed work's title: the first 《…》 that is not an outlet, else the clean subject."""
    titles = [m.group(1).strip() for text in (subject, *texts) for m in _TITLE.finditer(text)]
    titles = [t for t in titles if t]
    for title in titles:
        if not _OUTLET.search(title):
            return title
    if titles:
        return titles[0]
    cleaned = subject
    while (stripped := _SUBJECT_PREFIX.sub("", cleaned, count=1)) != cleaned:
        cleaned = stripped
    return cleaned.strip()


def _demand(text: str) -> Demand:
    remove, fee = bool(_REMOVE.search(text)), bool(_FEE.search(text))
    if remove and fee:
        return "both"
    return "remove" if remove else "fee" if fee else "unknown"


def _own_words(mail: ParsedMail, text: str) -> str:
    """``text`` without the earlier messages a reply quotes (our own notices say 版权 too)."""
    if _FORWARD_SUBJECT.match(mail.subject):
        # A forwarded claim is the claim: keep what it forwards.
        return text
    if mail.in_reply_to or mail.references or _REPLY_SUBJECT.match(mail.subject):
        cuts = [m.start() for m in (_QUOTE_START.search(text), _HEADER_QUOTE.search(text)) if m]
        if cuts:
            text = text[: min(cuts)]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
