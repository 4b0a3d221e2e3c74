"""Regenerate the committed claim test messages (see README.md): real-looking claims and the
look-alikes that must stay submissions. Run from anywhere::

    .venv/bin/python tests/data/claims/make_claims.py

The tests read the committed ``.eml`` files; ``text_pdf`` is also imported by the tests to
check that the lawyer's letter reads back through intake's own PDF extraction.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOX = Address("南山新闻网投稿", "tougao", "nsnews.example")


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer is ``lines`` (Chinese included), written by hand.

    The font is a non-embedded Type0/Identity-H font whose character codes are the Unicode
    code points, with a ToUnicode map saying so: that is all a text extractor needs, and it
    keeps the file at a few kilobytes (a LibreOffice export embeds a whole CJK font subset).
    """
    chars = sorted({c for line in lines for c in line})
    content = ["BT", "/F1 11 Tf", "18 TL", "56 780 Td"]
    for line in lines:
        content.append("<" + "".join(f"{ord(c):04X}" for c in line) + "> Tj T*")
    content.append("ET")
    stream = "\n".join(content).encode("ascii")
    entries = [f"<{ord(c):04X}> <{ord(c):04X}>" for c in chars]
    blocks = [
        f"{len(entries[i : i + 100])} beginbfchar\n"
        + "\n".join(entries[i : i + 100])
        + "\nendbfchar"
        for i in range(0, len(entries), 100)
    ]
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H"
        b" /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        b" /DW 1000 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


LAWYER_LETTER = [
    "律  师  函",
    "（2024）粤某律函字第0317号",
    "致：南山新闻网",
    "广东某某律师事务所接受王晓燕女士（下称“委托人”）的委托，就贵网站未经许可",
    "转载委托人作品一事，致函如下：",
    "一、委托人系散文《江畔晨读》的作者，依法享有该作品的著作权。该文首发于",
    "《珠江晚报》2023年10月15日副刊。",
    "二、贵网站于2024年3月1日在网页",
    "https://www.nsnews.example/wenhua/2024/0301/60015.html",
    "全文转载了上述作品，转载前未取得委托人许可，亦未支付报酬，侵犯了委托人",
    "依法享有的信息网络传播权及获得报酬权。",
    "三、请贵网站自收到本函之日起五个工作日内删除上述侵权内容，并就赔偿事宜与",
    "本所联系。逾期未予处理的，委托人将依法向人民法院提起诉讼。",
    "特此函告。",
    "广东某某律师事务所  律师：孙某",
    "2024年3月18日",
]


def _message(
    *,
    sender: Address,
    subject: str,
    date: str,
    message_id: str,
    received: str,
    extra: list[tuple[str, str]] | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["Return-Path"] = f"<{sender.addr_spec}>"
    msg["Received"] = received
    for name, value in extra or []:
        msg[name] = value
    msg["From"] = sender
    msg["To"] = BOX
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    msg["MIME-Version"] = "1.0"
    return msg


def _received(host: str, ip: str, qid: str, date: str) -> str:
    return (
        f"from {host} ({host} [{ip}]) by mail.nsnews.example (Postfix) with ESMTPS id {qid}"
        f" for <tougao@nsnews.example>; {date}"
    )


def zh_qq_plain_url() -> EmailMessage:
    date = "Mon, 20 May 2024 21:14:09 +0800"
    msg = _message(
        sender=Address("李秋萍", "1378921456", "qq.example"),
        subject="关于贵网未经授权转载拙作《老屋的桂花树》的函",
        date=date,
        message_id="<tencent_8C1F2E6A0B3D4C5E6F708192A3B4C5D6E7F8@qq.example>",
        received=_received("out203-205-221-173.mail.qq.example", "203.205.221.173",
                           "4VnQ2k1cXbz9tV", date),
        extra=[("X-QQ-mid", "xmsmtpt1716210849t5a1c0d3e"), ("X-Mailer", "QQMail 2.x")],
    )  # fmt: skip
    text = (
        "南山新闻网编辑部：\n\n"
        "您好！我是散文《老屋的桂花树》的作者李秋萍。该文首发于《湘江文艺》2023年第9期，"
        "后收入本人散文集《故园笔记》（湖南文艺出版社，2024年1月）。\n\n"
        "近日我发现，贵网于2024年5月8日在文化频道全文转载了此文，页面地址：\n"
        "https://www.nsnews.example/wenhua/2024/0508/61207.html\n"
        "页面标注“来源：湘江文艺（非本网）”，但转载前并未征得本人同意，至今也未向本人支付任何稿酬。\n\n"
        "根据《中华人民共和国著作权法》的相关规定，贵网的行为侵犯了本人对该作品享有的信息网络传播权。"
        "请贵网在收到本函后三日内删除该文，或按照国家规定的标准向本人支付稿酬。\n\n"
        "本人联系电话：139 0731 5566（微信同号）。\n\n"
        "李秋萍\n2024年5月20日\n"
    )
    html = "<div>" + text.replace("\n", "<br>") + "</div>"
    msg.set_content(text, charset="gb18030")
    msg.add_alternative(html, subtype="html", charset="gb18030")
    return msg


def zh_163_html_only() -> EmailMessage:
    date = "Wed, 12 Jun 2024 08:47:31 +0800 (CST)"
    msg = _message(
        sender=Address("周岩", "zhouyan_photo", "163.example"),
        subject="侵权投诉：摄影作品被盗用",
        date=date,
        message_id="<4b7d2c91.2f3a.18ffb5d7e11.Coremail.zhouyan_photo@163.example>",
        received=_received("m16.mail.163.example", "220.181.12.16", "4W02Lp3Hf9z9tW", date),
        extra=[
            ("X-Originating-IP", "[113.246.88.21]"),
            ("X-Mailer", "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)"),
            ("X-CM-CTRLDATA", "t3DsqWZvb3Rlcl9odG09MTIwODo1Ng=="),
        ],
    )
    html = (
        '<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
        "<div>您好：</div><div><br></div>"
        "<div>贵网站6月11日发布的新闻"
        '<a href="https://m.nsnews.example/shehui/2024/0611/62550.html">《暴雨过后的老街》</a>'
        "中使用了我拍摄的三张照片，未经我许可，也没有署名。</div>"
        "<div>我是自由摄影师周岩，这组照片原发在我的个人摄影主页，原图和拍摄数据都在，"
        "可以证明。</div>"
        "<div>请贵网按行业标准支付使用费（每张800元），并在文中补上署名。"
        "如不处理，我将保留追究法律责任的权利。</div><div><br></div>"
        "<div>周岩</div><div>手机 186 2233 4455</div></div><br><br>"
        '<span title="neteasefooter"><p>&nbsp;</p></span>'
    )
    msg.set_content(html, subtype="html", charset="gbk")
    return msg


def en_gmail_plain() -> EmailMessage:
    date = "Thu, 25 Apr 2024 10:02:44 +0100"
    msg = _message(
        sender=Address("Hannah Wright", "hannah.wright.writes", "gmail.example"),
        subject='Unauthorised republication of my essay "Harbour Lights at Dusk"',
        date=date,
        message_id="<CAH7xQ=8pZk2uV9mLr3Tq0bWcN5yD1fE6gJ4hK@mail.gmail.example>",
        received=_received("mail-wr1-f41.google.example", "209.85.221.41", "4VQ8sT0mKlz9tX",
                           date),
    )  # fmt: skip
    text = (
        "Dear editors,\n\n"
        'I am the author of the essay "Harbour Lights at Dusk", first published in The '
        "Coastline Review (Spring 2023 issue).\n\n"
        "Your website republished it in full on 18 April 2024, without my permission and "
        "without payment:\n\n"
        "https://www.nsnews.example/en/culture/2024/04/harbour-lights-at-dusk.html\n\n"
        "Please remove the article, or contact me to agree a licence fee for its use. I can "
        "send the original publication and my drafts as proof of authorship.\n\n"
        "Kind regards,\nHannah Wright\n"
    )
    msg.set_content(text)
    msg.add_alternative('<div dir="ltr">' + text.replace("\n", "<br>") + "</div>", subtype="html")
    return msg


def zh_lawyer_letter_pdf() -> EmailMessage:
    date = "Mon, 18 Mar 2024 16:20:05 +0800"
    msg = _message(
        sender=Address("孙律师", "sun.lawyer", "lawfirm.example"),
        subject="律师函（关于作品《江畔晨读》）",
        date=date,
        message_id="<000001da7902$5e3a4b10$1aaee130$@lawfirm.example>",
        received=_received("smtp.lawfirm.example", "121.40.1.2", "4TysB55kQ0z9tY", date),
        extra=[("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdpY+QHnYXkQ2cVxTgq")],
    )
    msg.set_content(
        "南山新闻网：\n\n附件为本所受托发出的律师函，请查收，并于五个工作日内书面回复。\n\n"
        "广东某某律师事务所 孙律师\n电话：020-8888 6666\n"
    )
    msg.add_attachment(
        text_pdf(LAWYER_LETTER), maintype="application", subtype="pdf", filename="律师函.pdf"
    )
    return msg


def zh_foxmail_no_url() -> EmailMessage:
    date = "Tue, 9 Jul 2024 14:31:52 +0800"
    msg = _message(
        sender=Address("陈建国", "chenjianguo1962", "126.example"),
        subject="关于《父亲的自行车》一文",
        date=date,
        message_id="<202407091431520893215@126.example>",
        received=_received("m15-112.126.example", "220.181.15.112", "4WJ7Vd2Hj1z9tZ", date),
        extra=[("X-Mailer", "Foxmail 7.2.25.228[cn]"), ("X-Priority", "3")],
    )
    msg.set_content(
        "编辑同志：\n\n"
        "贵网转载了我的文章《父亲的自行车》，未经授权，请删除或支付稿酬。\n"
        "此文是我2019年写的，发表在我们县的《清河文苑》上，贵网转载时连作者名字都没有署。\n\n"
        "陈建国\n",
        charset="gb2312",
    )
    return msg


def en_noreply_agency() -> EmailMessage:
    date = "Fri, 31 May 2024 03:12:40 +0000"
    msg = _message(
        sender=Address("RightsGuard Notices", "notices-noreply", "rightsguard.example"),
        subject="Notice of copyright infringement - case RG-2024-118734",
        date=date,
        message_id="<0100018fcc2a7e41-rg-118734@mailer.rightsguard.example>",
        received=_received("mailer.rightsguard.example", "54.240.8.12", "4VrJ1z6Sdkz9tA", date),
        extra=[("X-Entity-Ref-ID", "RG-2024-118734")],
    )
    msg.set_content(
        "NOTICE OF COPYRIGHT INFRINGEMENT\n\n"
        "RightsGuard acts for Meridian Photo Agency, the owner of the copyright in the "
        'photograph "Skyline after the storm" (Meridian ref. MPA-22-0931).\n\n'
        "The following page on your site displays the photograph without a licence:\n"
        "https://nsnews.example/en/photo/2024/05/skyline.html\n\n"
        "This is an infringement of our client's rights. We request that you remove or "
        "disable access to the photograph promptly.\n\n"
        "This mailbox is not monitored. To respond, visit our portal and quote the case "
        "number.\n"
    )
    return msg


def not_claim_essay() -> EmailMessage:
    date = "Sat, 6 Jul 2024 19:40:12 +0800"
    msg = _message(
        sender=Address("赵明远", "zhao.mingyuan", "sina.example"),
        subject="投稿：网络转载不是“免费午餐”——浅谈新闻作品的著作权保护",
        date=date,
        message_id="<20240706194012.6F3A21C0B5@smtp.sina.example>",
        received=_received("smtp.sina.example", "202.108.3.190", "4WFZ6m0Hnbz9tB", date),
        extra=[("X-Mailer", "SinaMail 3.0")],
    )
    msg.set_content(
        "编辑老师好：\n\n久闻贵网大名，现投上拙文一篇，谈谈网络转载中的著作权问题，望审阅。\n\n"
        "网络转载不是“免费午餐”\n——浅谈新闻作品的著作权保护\n\n"
        "在自媒体时代，“一键转载”已成常态。不少网站和公众号认为，只要注明“来源：某某日报”，"
        "就可以随意转载他人作品。这是一种误解。根据《著作权法》，除时事新闻外，"
        "未经授权转载他人享有著作权的作品，即构成侵权。\n\n"
        "近年来，因转载引发的侵权纠纷屡见不鲜。一些作者发现作品被转载后，往往只能要求对方删除，"
        "维权成本高、赔偿数额低。法院在审理此类案件时，通常会综合考虑作品类型、传播范围和侵权情节，"
        "判令侵权方停止侵权、赔偿损失。\n\n"
        "笔者认为，治理转载乱象，一要平台建立授权审核机制，二要行业形成合理的稿酬标准，"
        "三要作者增强版权意识，发现侵权及时取证。只有各方共同努力，"
        "才能让优质内容得到应有的尊重。\n\n"
        "作者：赵明远，某大学法学院研究生\n联系电话：135 1234 5678\n"
    )
    return msg


def not_claim_reprint_question() -> EmailMessage:
    date = "Sun, 14 Jul 2024 10:05:33 +0800"
    msg = _message(
        sender=Address("林晓", "linxiao_writer", "qq.example"),
        subject="咨询：公众号文章能否投稿",
        date=date,
        message_id="<tencent_5D4C3B2A19087F6E5D4C3B2A1908@qq.example>",
        received=_received("out162-62-57-252.mail.qq.example", "162.62.57.252",
                           "4WMc0q4Lrhz9tC", date),
        extra=[("X-QQ-mid", "xmsmtpt1720922733t9f8e7d6c"), ("X-Mailer", "QQMail 2.x")],
    )  # fmt: skip
    msg.set_content(
        "编辑您好！\n\n"
        "我写的一篇散文《外婆的菜园》上个月已经发在我的个人公众号上了，阅读量不多。"
        "请问贵网可以转载吗？如果转载，版权方面需要我签什么授权吗？稿费怎么算？\n\n"
        "谢谢！\n林晓\n",
        charset="gb18030",
    )
    return msg


def consent_reply() -> EmailMessage:
    """A contributor's 同意 to our copyright request, which mentions 版权 and 侵权 itself.

    The subject carries the token of submission #1: the tests ingest a submission first.
    """
    date = "Thu, 21 Nov 2024 09:12:45 +0800"
    msg = _message(
        sender=Address("张三", "zhangsan", "qq.example"),
        subject="回复：[投稿 #1] 版权授权确认",
        date=date,
        message_id="<tencent_0F1E2D3C4B5A69788796A5B4C3D2E1F0@qq.example>",
        received=_received("out162-62-58-211.mail.qq.example", "162.62.58.211",
                           "4Y0Kq71TbTz9tD", date),
        extra=[("X-QQ-mid", "xmsmtpt1732151565t1a2b3c4d"), ("X-Mailer", "QQMail 2.x")],
    )  # fmt: skip
    msg.set_content(
        "同意。\n\n本人确认对该作品享有完整的著作权，不存在侵权问题，同意贵网按上述条款使用。\n\n"
        "张三\n\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "南山新闻网投稿" <tougao@nsnews.example>;\n'
        "发送时间: 2024年11月20日(星期三) 下午5:30\n"
        '收件人: "张三" <zhangsan@qq.example>;\n'
        "主题: [投稿 #1] 版权授权确认\n\n"
        "请确认您同意本网按以下条款使用您的作品。如作品涉及侵权，由作者承担责任；"
        "本网有权删除相关内容。\n",
        charset="gb18030",
    )
    return msg


FILES = {
    "claim-zh-qq-url.eml": zh_qq_plain_url,
    "claim-zh-163-html-only.eml": zh_163_html_only,
    "claim-en-gmail-url.eml": en_gmail_plain,
    "claim-zh-lawyer-letter-pdf.eml": zh_lawyer_letter_pdf,
    "claim-zh-foxmail-no-url.eml": zh_foxmail_no_url,
    "claim-en-noreply-agency.eml": en_noreply_agency,
    "not-claim-essay-on-copyright.eml": not_claim_essay,
    "not-claim-reprint-question.eml": not_claim_reprint_question,
    "not-claim-consent-reply.eml": consent_reply,
}


def main() -> None:
    for name, build in FILES.items():
        msg = build()
        if msg.is_multipart():  # a fixed boundary: the same bytes on every run
            msg.set_boundary(f"=_part_{name.removesuffix('.eml')}")
        (HERE / name).write_bytes(msg.as_bytes())


if __name__ == "__main__":
    main()
