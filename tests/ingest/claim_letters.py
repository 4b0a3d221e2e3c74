"""Tables of mail that reads like copyright talk: submissions whose documents or articles carry
licence, copyright and infringement language (never claims), and rights holders' letters in
the shapes they really come in (always claims). Each row names where its text comes from.

Sources, none copied from this repository: the Project Gutenberg licence and header as every
Gutenberg e-book carries them (``tests/data/claims/corpus/gutenberg-license.txt``); Creative
Commons deeds' Chinese and English notices as blogs and repositories print them; the CIP and
版权页 layout of Chinese books; DMCA notices in the two shapes the github/dmca repository
publishes (a rights-protection firm's letter, GitHub's form); Chinese lawyers' letters,
侵权通知函 and image agencies' demands in their usual layout. People, firms, numbers and
hosts are invented; ``nsnews.example`` is the site, as in ``tests/data/classify/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parents[1] / "data" / "claims" / "corpus"
PG_LICENSE = (CORPUS / "gutenberg-license.txt").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Row:
    """One message: its subject and body, and the document attached to it (name, text)."""

    name: str
    subject: str
    body: str
    source: str
    attachment: tuple[str, str] | None = None
    charset: str = "utf-8"
    html_only: bool = False


def _pg_header(title: str, author: str, ebook: int, language: str = "English") -> str:
    return (
        f"The Project Gutenberg eBook of {title}\n\n"
        "This ebook is for the use of anyone anywhere in the United States and\n"
        "most other parts of the world at no cost and with almost no restrictions\n"
        "whatsoever. You may copy it, give it away or re-use it under the terms\n"
        "of the Project Gutenberg License included with this ebook or online\n"
        "at www.gutenberg.org. If you are not located in the United States,\n"
        "you will have to check the laws of the country where you are located\n"
        "before using this eBook.\n\n"
        f"Title: {title}\n\nAuthor: {author}\n\n"
        f"Release date: May 1, 2004 [eBook #{ebook}]\n\nLanguage: {language}\n\n"
        "Credits: Produced by volunteers of Distributed Proofreaders\n\n"
        f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
    )


_KEATS = (
    "Upon a time, before the faery broods\n"
    "Drove Nymph and Satyr from the prosperous woods,\n"
    "Before King Oberon's bright diadem,\n"
    "Sceptre, and mantle, clasp'd with dewy gem,\n"
    "Frighted away the Dryads and the Fauns\n"
    "From rushes green, and brakes, and cowslip'd lawns,\n"
    "The ever-smitten Hermes empty left\n"
    "His golden throne, bent warm on amorous theft.\n"
)
_KEATS_ZH = (
    "从前，在仙灵的族群\n把山林女神和萨梯赶出丰饶的森林之前，\n"
    "在奥伯龙王那明亮的冠冕、\n权杖与缀着露珠宝石的斗篷\n"
    "吓走德律阿得斯和法翁之前，\n那永远多情的赫耳墨斯\n"
    "离开了他的金座，一心去偷一场温存。\n"
)
_SHORT_STORY = (
    "父亲的自行车是一辆永久牌二八车，黑色的漆早已斑驳。每天清晨，他骑着它穿过县城的老街，"
    "车铃叮当，惊起屋檐下的麻雀。我坐在后座上，抱着他的腰，闻得到他棉袄上的烟草味。\n"
    "那年冬天，父亲病了。自行车靠在院墙边，落了一层薄雪。我学着父亲的样子给链条上油，"
    "一圈一圈地摇着脚蹬，听它发出沙沙的声音，像父亲在咳嗽。\n"
    "后来我去了省城读书，自行车被母亲卖给了收废品的。我回家时只看见墙上留下的一道浅浅的印子。\n"
)
_ESSAY = (
    "秋天的故乡是金黄色的。稻田一直铺到山脚，风一吹，稻浪一层层涌过来，"
    "带着新米的清香。母亲说，今年雨水好，收成会比去年多两成。\n"
    "我站在田埂上，看着父亲弯腰割稻，镰刀在阳光下一闪一闪。小时候我总嫌农活辛苦，"
    "如今离家多年，才明白那是一种踏实的幸福。\n"
    "晚饭是新米煮的饭，配一碟腌萝卜。一家人围坐在院子里，月亮从竹林后面升起来。\n"
)
_CC_ZH = (
    "本作品采用知识共享署名-非商业性使用-相同方式共享 4.0 国际许可协议进行许可。\n"
    "您可以自由地：共享 — 在任何媒介以任何形式复制、发行本作品；演绎 — 修改、转换或以本作品为"
    "基础进行创作。惟须遵守下列条件：署名 — 您必须给出适当的署名，提供指向本许可协议的链接，"
    "同时标明是否（对原始作品）作了修改。非商业性使用 — 您不得将本作品用于商业目的。"
    "相同方式共享 — 如果您再混合、转换或者基于本作品进行创作，您必须基于与原先许可协议相同的"
    "许可协议分发您贡献的作品。未经许可不得用于商业用途，转载请注明出处。\n"
)
_CIP = (
    "图书在版编目（CIP）数据\n南山往事 / 李明著. —成都：巴蜀文艺出版社，2023.6\n"
    "ISBN 978-7-5411-0000-0\nⅠ.①南… Ⅱ.①李… Ⅲ.①散文集—中国—当代 Ⅳ.①I267\n"
    "中国版本图书馆CIP数据核字（2023）第081234号\n"
    "责任编辑：王芳　封面设计：陈晨\n出版发行：巴蜀文艺出版社\n"
    "印刷：成都某某印务有限公司\n开本：880mm×1230mm 1/32　字数：180千字\n"
    "版次：2023年6月第1版　印次：2023年6月第1次印刷\n定价：48.00元\n"
    "版权所有　翻印必究\n本书若有印装质量问题，请与出版社联系调换。\n"
)
_NEWS_PHOTO_CASE = (
    "摄影师起诉网红博主侵权 法院判赔八万余元\n"
    "本报讯（记者 周晓）专业摄影师张某发现，自己受一家鞋业公司委托拍摄的8幅摄影作品，"
    "被一名拥有百万粉丝的博主未经许可发布在其微博账号上，且未署名。张某随即委托律师"
    "发出律师函，要求对方删除侵权图片、赔礼道歉并赔偿损失，但对方未予理会。\n"
    "张某诉称，被告擅自使用其摄影作品用于商业推广，侵犯了其署名权和信息网络传播权，"
    "请求判令被告赔偿经济损失20万元及维权合理开支2.37万元。被告辩称，图片系品牌方提供，"
    "其不知道图片的著作权归属，且已删除相关微博。\n"
    "法院审理认为，涉案照片具有独创性，构成摄影作品。被告作为具有一定影响力的博主，"
    "在商业推广中使用他人作品，应当尽到合理的注意义务。最终判决被告赔偿原告经济损失"
    "及合理开支共计8.2万元。\n"
    "承办法官提醒，网络用户在使用他人图片前应取得授权，“先用后付”“不知情”都不能成为"
    "免责理由；权利人发现侵权后，可以通过公证保全证据、发送律师函、向平台投诉等方式维权。\n"
)
_NEWS_VCG = (
    "一张“黑洞”照片引发的版权风波\n"
    "人类首张黑洞照片发布当天，有网友发现图片网站将这张照片标注为“版权所有”，"
    "并称商业使用需获得授权、支付使用费。事件迅速发酵，多家机构官方微博晒出自家标志"
    "也被该网站标价出售的截图。\n"
    "业内人士指出，图片库“碰瓷式维权”由来已久：一些公司先广泛收集图片，再通过技术"
    "手段在网上搜索“侵权”使用，随后发出侵权通知函，要求使用方删除图片并支付高额赔偿，"
    "否则提起诉讼。不少中小网站和自媒体因此收到律师函。\n"
    "法律专家表示，图片公司主张权利，首先要证明自己享有著作权或获得了合法授权；"
    "对于不享有著作权的公共领域作品，任何人都无权收取许可费。网信部门随后约谈相关网站，"
    "要求其全面整改。\n"
)
_NEWS_WEBNOVEL = (
    "网络文学盗版之困：作者维权为何这么难\n"
    "“我的小说刚更新不到十分钟，盗版网站就全文搬运了。”网络作家“青衫”说，"
    "她曾多次给盗版网站发邮件，要求删除侵权章节，对方从不回复。据行业报告估算，"
    "盗版给网络文学行业造成的损失每年高达数十亿元。\n"
    "记者调查发现，盗版网站多把服务器架设在境外，频繁更换域名，权利人即使发出侵权"
    "通知，也很难找到责任主体。一些作者联合起来，委托维权机构批量取证、集中投诉，"
    "才让部分侵权链接下架。\n"
    "律师建议，作者在发布作品时保留创作底稿和首发时间证据，发现侵权后及时公证，"
    "必要时向法院起诉，主张停止侵权、赔偿损失。\n"
)
_COURT = (
    "洗稿算不算侵权？一起著作权纠纷案的审理\n"
    "原告诉称：原告系微信公众号“某某文史”的运营者，其发表的文章《古城墙下的旧时光》"
    "被被告公司运营的网站未经许可转载，且删除了作者署名。原告请求法院判令被告立即删除"
    "涉案文章、在其网站首页刊登致歉声明，并赔偿经济损失及合理开支共计3万元。\n"
    "被告辩称：涉案文章系网友投稿，被告已尽审核义务，收到起诉状后已删除，不应承担赔偿责任。\n"
    "法院经审理查明，被告网站刊登的文章与原告作品在结构、表达上高度一致，构成对原告"
    "作品的复制。被告作为网络内容提供者，对其网站刊发的内容负有审查义务，其侵犯了原告"
    "对涉案作品享有的信息网络传播权，判决被告赔偿原告经济损失及合理开支8000元。\n"
)
_DMCA_ESSAY = (
    "The Takedown Machine\n\n"
    "Every week thousands of DMCA notices arrive at web hosts. Most are sent by "
    "rights-protection firms on behalf of publishers, and most follow the same template: "
    "“We have a good faith belief that use of the copyrighted materials described above is "
    "not authorized by the copyright owner, its agent, or the law.” The notice names the "
    "infringing URL and asks the host to remove or disable access to it.\n\n"
    "Critics say the system is lopsided. A host that removes the material promptly keeps its "
    "safe harbour; one that refuses risks liability for infringement. So hosts take down first "
    "and ask later, and a blogger whose post quoted a paragraph of a novel finds it gone "
    "without warning. Counter-notices exist, but few people file them.\n\n"
    "Researchers who studied the Lumen database found that a significant share of takedown "
    "requests targeted material that was not infringing at all: news reports, criticism, "
    "even the rights holder's own press releases.\n"
)
_THESIS = (
    "学位论文独创性声明\n本人郑重声明：所呈交的学位论文是本人在导师指导下进行的研究工作"
    "及取得的研究成果。除了文中特别加以标注和致谢的地方外，论文中不包含其他人已经发表"
    "或撰写过的研究成果。如有侵权，本人愿意承担一切法律责任。\n"
    "学位论文版权使用授权书\n本学位论文作者完全了解学校有关保留、使用学位论文的规定，"
    "有权保留并向国家有关部门或机构送交论文的复印件和电子版，允许论文被查阅和借阅。"
    "未经作者许可，任何单位和个人不得以任何形式转载、摘编本论文。\n"
    "摘要\n本文以川西林盘为研究对象，考察其空间形态与乡村振兴的关系……\n"
)

# --------------------------------------------------------------------------- never claims

NOT_CLAIMS: tuple[Row, ...] = (
    Row(
        "contributor-nimen-published-fee",
        "请问稿费",
        "编辑老师好：你们发表了我的散文《秋夜》，非常感谢！请问稿费什么时候发？\n\n王明",
        "a contributor's thanks with 你们 before 发表, and a fee question",
    ),
    Row(
        "pg-book-txt",
        "投稿：济慈《拉弥亚》新译",
        "编辑老师您好：附件是我翻译的济慈长诗《拉弥亚》，原文取自古登堡计划，请审阅。",
        "Project Gutenberg eBook #2490 layout and licence",
        ("Lamia.txt", _pg_header("Lamia", "John Keats", 2490) + _KEATS * 20 + PG_LICENSE),
    ),
    Row(
        "pg-header-short-poem-body",
        "",
        _pg_header("Lamia", "John Keats", 2490) + _KEATS + "\n\n译文：\n" + _KEATS_ZH,
        "Gutenberg header pasted above a short excerpt, no subject",
    ),
    Row(
        "pg-header-short-docx",
        "来稿",
        "您好，附上译稿一篇，原文见古登堡计划。",
        "Gutenberg header in a one-page .docx",
        ("拉弥亚选译.docx", _pg_header("Lamia", "John Keats", 2490) + _KEATS + _KEATS_ZH),
    ),
    Row(
        "pg-footer-in-body",
        "投稿：《拉弥亚》新译（节选）",
        _KEATS_ZH * 3 + "\n原文：\n" + _KEATS + "\n" + PG_LICENSE[:2500],
        "Gutenberg licence footer pasted under a translation",
    ),
    Row(
        "pg-footer-short-pdf",
        "",
        "编辑您好，我译的一首短诗，请贵刊指正。稿费请寄到下面地址。",
        "a trimmed Gutenberg footer in a one-page PDF",
        ("lamia.pdf", _KEATS_ZH + _KEATS + PG_LICENSE[:1800]),
    ),
    Row(
        "pg-chinese-classic",
        "来稿：读《红楼梦》札记",
        "附件是札记，引文出自古登堡计划的电子本。",
        "Gutenberg header on a Chinese classic, quoted in an essay",
        (
            "札记.txt",
            _pg_header("紅樓夢", "Xueqin Cao", 24264, "Chinese")
            + "卻說那女媧氏煉石補天之時，於大荒山無稽崖煉成高十二丈、見方二十四丈大的頑石。\n"
            + _ESSAY,
        ),
        charset="gb18030",
    ),
    Row(
        "cc-zh-body-no-subject",
        "",
        _ESSAY * 2 + "\n" + _CC_ZH + "作者：林溪\n",
        "a blog's CC BY-NC-SA 4.0 notice (zh deed) under an essay, no subject",
    ),
    Row(
        "cc-zh-docx",
        "投稿：散文《秋天的故乡》",
        "编辑老师您好，稿件见附件，请查收。",
        "CC BY-NC-SA notice at the end of a .docx essay",
        ("秋天的故乡.docx", "秋天的故乡\n林溪\n" + _ESSAY + _CC_ZH),
    ),
    Row(
        "cc-en-by-sa-footer",
        "Submission: Notes from the harbour",
        "Dear editor,\n\nPlease consider the essay below for your site.\n\n"
        "The harbour wakes before the town does. Fishing boats slide out past the breakwater "
        "while the gulls argue over the night's catch.\n\n"
        "This work is licensed under a Creative Commons Attribution-ShareAlike 4.0 "
        "International License. You are free to share and adapt it, provided you give "
        "appropriate credit and distribute your contributions under the same license.\n",
        "CC BY-SA 4.0 footer of an English essay",
    ),
    Row(
        "cc-deed-txt-no-subject",
        "",
        "您好，我的文章在附件里，贵网如果用的话请告诉我。",
        "the CC deed's 'you are free to' list at the end of a .txt article",
        ("文章.txt", _ESSAY + "\n版权声明\n" + _CC_ZH),
        charset="gb18030",
    ),
    Row(
        "cip-book-docx",
        "投稿：散文集《南山往事》",
        "编辑老师您好！这是我的散文集，附件为全书，请审阅。",
        "a book's 版权页 (CIP data, 版权所有 翻印必究) in a long .docx",
        ("南山往事.docx", "南山往事\n李明 著\n" + _CIP + "目录\n" + _ESSAY * 30),
    ),
    Row(
        "cip-short-pdf",
        "来稿",
        "附上新书的版权页和前言，请贵刊考虑刊发书讯。",
        "a 版权页 and a preface in a one-page PDF",
        ("南山往事-版权页.pdf", _CIP + "前言\n" + _ESSAY),
    ),
    Row(
        "cip-in-body-review",
        "书评投稿",
        "《南山往事》读后\n" + _ESSAY + "\n附书目信息：\n" + _CIP,
        "a book review quoting the book's 版权页 in the body",
    ),
    Row(
        "news-photo-lawsuit-body",
        "投稿：摄影师起诉网红博主侵权",
        "贵报编辑您好，以下是我采写的一篇法治新闻，请审阅：\n\n" + _NEWS_PHOTO_CASE,
        "a court report on a photographer's lawsuit (after Shanghai case 2015, 张琦 v 王子川)",
    ),
    Row(
        "news-vcg-no-subject",
        "",
        "编辑您好，投一篇评论稿，谈图片版权的，你们网站如果用请支付稿费。\n\n" + _NEWS_VCG,
        "a report on the 2019 black-hole photo licensing row, no subject",
    ),
    Row(
        "news-webnovel-docx",
        "来稿",
        "您好！稿件见附件。",
        "a feature on web-novel piracy in a .docx",
        ("网络文学盗版之困.docx", _NEWS_WEBNOVEL),
    ),
    Row(
        "court-report-pdf",
        "",
        "贵报编辑：附上一篇法治稿件，谈洗稿侵权，如不合适请删除。谢谢！",
        "a court report on a 洗稿 case in a PDF, a cover note asking to delete if unsuitable",
        ("洗稿案.pdf", _COURT),
    ),
    Row(
        "court-report-body-no-subject",
        "",
        "你们网站好，我是法学院学生，写了一篇案例评析：\n\n" + _COURT,
        "a law student's case note pasted in the body",
    ),
    Row(
        "own-no-reprint-line",
        "",
        "编辑老师好，投稿一篇散文，请审阅。\n\n" + _ESSAY + "\n本文系原创，未经许可不得转载。",
        "a contributor's own 本文系原创，未经许可不得转载 line",
    ),
    Row(
        "own-original-declaration-txt",
        "来稿：《父亲的自行车》",
        "编辑您好，文章见附件。",
        "a 原创声明 …侵权必究 at the end of a .txt story",
        (
            "父亲的自行车.txt",
            _SHORT_STORY + "\n原创声明：本文为作者原创首发，转载请联系作者授权，侵权必究。",
        ),
        charset="gb18030",
    ),
    Row(
        "own-declaration-and-fee",
        "",
        "编辑您好，投稿一篇。本文系原创首发，未经本人授权不得转载。贵网如采用，请支付稿酬。\n\n"
        + _SHORT_STORY,
        "a first-publication line and a fee request, no subject",
    ),
    Row(
        "fee-question",
        "请问稿费",
        "编辑老师您好，我三月份在贵网发表的《父亲的自行车》，稿费一直没有收到，"
        "请问稿费是怎么支付的？需要我提供银行账号吗？",
        "a contributor asking about an unpaid fee",
    ),
    Row(
        "fee-and-rights-question",
        "",
        "你好，我想给你们网站投稿。请问稿费标准是多少？发表后版权归谁？"
        "我的文章以前发在个人公众号上，算不算首发？",
        "a would-be contributor asking about fees and rights",
    ),
    Row(
        "reprinted-elsewhere-new-piece",
        "",
        "编辑老师您好！上次在贵网发表的文章被其他网站未经授权转载了，我已经自己维权处理了。"
        "这次再投一篇新作，请审阅，如不采用请删除即可。\n\n" + _ESSAY,
        "a contributor telling of another site's infringement while sending a new piece",
    ),
    Row(
        "poems-rights-reserved",
        "投稿 组诗三首",
        "附件是组诗，请编辑老师斧正。",
        "a short poem .docx ending 版权所有 侵权必究 (no comma)",
        (
            "组诗.docx",
            "山中三首\n一\n松风吹过石阶，\n云在溪水里走。\n二\n樵夫的歌声很远，\n"
            "像一只鸟落在黄昏。\n三\n我把灯点亮，\n山就睡了。\n\n版权所有 侵权必究",
        ),
    ),
    Row(
        "court-report-docx-subject-gaojian",
        "稿件：洗稿算不算侵权",
        "见附件。",
        "a court report in a .docx under a 稿件 subject",
        ("洗稿.docx", _COURT),
    ),
    Row(
        "thesis-declaration",
        "投稿：川西林盘与乡村振兴",
        "编辑您好，附件为论文摘编，请审阅。",
        "a thesis' 独创性声明 and 版权使用授权书 at the front of a .pdf",
        ("论文.pdf", _THESIS),
    ),
    Row(
        "dmca-essay-en",
        "Submission: The Takedown Machine",
        "Hello, I'd like to submit the attached essay about copyright takedowns.",
        "an English essay about DMCA notices and the Lumen database",
        ("takedown.docx", _DMCA_ESSAY),
    ),
    Row(
        "dmca-essay-en-body",
        "",
        "Dear editor, below is an essay for your website. I would appreciate a reply about "
        "payment if you publish it.\n\n" + _DMCA_ESSAY,
        "the same essay pasted in the body, no subject, asking about payment",
    ),
    Row(
        "all-rights-reserved-en",
        "",
        "To the editor of your site:\n\nWinter on the river\n\nThe ice came early this year. "
        "By December the ferry had stopped and the children skated where the boats had been.\n\n"
        "© 2024 Ma Lin. All rights reserved. Unauthorized reproduction is prohibited.",
        "an English piece with an all-rights-reserved line, no subject",
    ),
    Row(
        "republish-cc-conversation",
        "Article for your site",
        "Hi, you are welcome to run my piece below.\n\nWhy rivers freeze\n\nRivers freeze from "
        "the edges inward. ...\n\nThis article is republished from The Conversation under a "
        "Creative Commons license. You may republish it free of charge, online or in print.",
        "The Conversation's republishing notice",
    ),
    Row(
        "translation-authorised",
        "",
        "编辑老师：附件是一篇译稿，原作者已授权翻译。",
        "a translator's note (已获授权, 未经许可不得转载) in a .docx",
        (
            "译稿.docx",
            "译者按：本文译自作者博客，已获原作者书面授权翻译发表。"
            "译文版权归译者所有，未经许可不得转载。\n" + _ESSAY,
        ),
    ),
    Row(
        "law-column-lawyer-letter",
        "法治专栏投稿：收到律师函怎么办",
        "收到律师函怎么办？\n很多小网站、自媒体都收到过图片公司的律师函，称其未经授权使用图片，"
        "构成侵权，要求删除并赔偿。首先不要慌，核实对方是否真的享有著作权；其次，"
        "及时删除涉嫌侵权的内容；最后，协商赔偿金额时可以参考法院判例。",
        "a lawyer's column about answering lawyers' letters",
    ),
    Row(
        "thanks-and-fee",
        "",
        "编辑老师好！感谢贵网刊登了我的文章《父亲的自行车》，请问稿费什么时候支付？",
        "a contributor thanking us and asking after the fee, no subject",
    ),
    Row(
        "thanks-and-fee-en",
        "Re: your piece",
        "Thank you for publishing my essay last week! You published my photo too. "
        "When will the payment be made?",
        "an English contributor thanking us and asking about payment",
    ),
    Row(
        "cover-note-names-topic",
        "",
        "你们网站编辑好，附上一篇谈网络侵权的评论稿，删改请随意，稿费多少都行。",
        "a cover note that names its piece's topic (侵权) beside 你们网站",
        ("评论.docx", _NEWS_WEBNOVEL),
    ),
    Row(
        "one-outlet-promise",
        "",
        "编辑老师您好：此稿系本人原创，专投贵刊，未授权其他任何媒体发表。如蒙采用，稿费请寄至下列地址。",
        "the 专投贵刊，未授权其他媒体 promise of a cover note, no subject",
    ),
    Row(
        "not-given-to-other-sites",
        "",
        "编辑您好，我的这篇文章没有授权给其他网站，只投给你们网站，如果用的话请支付稿费。\n\n"
        + _ESSAY,
        "'not licensed to any other site' and a fee request",
    ),
    Row(
        "used-thanks-fee-how",
        "",
        "老师好，你们网站用了我的文章，谢谢！稿费怎么领？",
        "a contributor thanking us after the fact and asking how to collect the fee",
    ),
    Row(
        "html-only-cc-zh",
        "",
        "<p>编辑你好，这是我的文章，你们网站要是能用就太好了。</p><p>"
        + _ESSAY.replace("\n", "</p><p>")
        + "</p><p>"
        + _CC_ZH
        + "</p>",
        "an HTML-only mail (163 style) with a CC notice",
        html_only=True,
        charset="gbk",
    ),
)

# --------------------------------------------------------------------------- claims

_DMCA_OPSEC = (
    "VIA EMAIL: Notice of Claimed Infringement via Email\nURL: https://www.nsnews.example\n"
    "DATE: 03/18/2024\n\nDear nsnews.example,\n\n"
    'We are writing this letter on behalf of Harbour Light Publishing Ltd. ("Harbour Light").\n\n'
    "We have received information leading us to believe that the website located at "
    'https://www.nsnews.example (the "Website") is hosting content in which Harbour Light is '
    "the copyright owner. No one is authorized to exhibit, reproduce, transmit, or otherwise "
    "distribute Harbour Light Properties in this manner without the express written permission "
    "of Harbour Light, and the unauthorized distribution constitutes copyright infringement.\n\n"
    "1. Identification of copyrighted work(s):\nTHE SALT ROAD - by M. OKAFOR\n\n"
    "2. Copyright infringing material or activity found at the following location(s):\n"
    "https://www.nsnews.example/en/books/2024/03/the-salt-road-chapter-one.html\n\n"
    "We have a good faith belief that use of the copyrighted materials described above on the "
    "Website is not authorized by the copyright owner, its agent, or the law.\n\n"
    "Accordingly, Harbour Light requests that you immediately cease access to the Harbour "
    "Light Properties and confirm in writing that access has been removed.\n\n"
    "The information in this notice is accurate and we state, under penalty of perjury, that "
    "we are authorized to act on behalf of the owner of an exclusive right that is allegedly "
    "infringed.\n\nSincerely,\nRights Protection Team\nOnward Brand Security LLC\n"
)
_DMCA_FORM = (
    "Are you the copyright holder or authorized to act on the copyright owner's behalf?\n"
    "Yes, I am the copyright holder.\n\n"
    "Please provide a detailed description of the original copyrighted work that has "
    'allegedly been infringed.\nMy photograph "Fog over the ferry pier", first published '
    "on my portfolio at https://www.lenswork.example/fog-ferry.\n\n"
    "What files should be taken down? Please provide URLs for each file.\n"
    "https://www.nsnews.example/en/city/2024/02/ferry.html\n"
    "https://img.nsnews.example/2024/02/ferry-fog.jpg\n\n"
    "What would be the best solution for the alleged infringement?\n"
    "Reported content must be removed\n\n"
    "I have a good faith belief that use of the copyrighted materials described above on the "
    "infringing web pages is not authorized by the copyright owner, or its agent, or the law.\n"
    "I swear, under penalty of perjury, that the information in this notification is "
    "accurate and that I am the copyright owner.\n\nPlease type your full legal name below "
    "to sign this request.\nDaniel Reyes\n"
)
_LAWYER_ZH = (
    "律  师  函\n（2024）川某律函字第0211号\n致：南山新闻网\n"
    "四川某某律师事务所接受成都某某文化传播有限公司（下称“委托人”）的委托，"
    "就贵网站未经许可使用委托人享有著作权的作品一事，郑重致函如下：\n"
    "一、委托人依法享有摄影作品《锦江夜色》的著作权。\n"
    "二、经委托人查证，贵网站于2024年1月在网页https://www.nsnews.example/chengdu/2024/0112/"
    "57220.html中使用了上述作品，未取得委托人授权，亦未支付报酬，已构成侵权。\n"
    "三、请贵网站自收到本函之日起七日内删除上述作品，并与本所联系协商赔偿事宜。"
    "逾期未处理的，委托人将依法追究贵网站的法律责任。\n特此函告。\n"
    "四川某某律师事务所　律师：陈某\n2024年2月20日\n"
)
_NOTICE_ZH = (
    "侵权通知函\n南山新闻网：\n"
    "本人何晓梅，系散文《外婆的菜园》的作者，该文首发于《巴山文学》2022年第4期。\n"
    "近日本人发现，贵网站未经本人许可，在以下网址全文转载了该作品，且未署名、未支付稿酬：\n"
    "https://www.nsnews.example/wenhua/2023/1105/52031.html\n"
    "上述行为侵犯了本人的署名权、信息网络传播权和获得报酬权。根据《信息网络传播权保护条例》"
    "第十四条，特此通知贵网站在收到本通知后及时删除侵权内容，并支付相应报酬。\n"
    "权利人：何晓梅　联系电话：139****2210\n2024年3月2日\n"
)
_NEWSPAPER_ZH = (
    "关于贵网转载我报稿件的版权声明\n南山新闻网负责人：\n"
    "我报发现，贵网在未获授权的情况下，自2023年10月以来陆续转载我报原创稿件共计17篇"
    "（清单附后），其中包括《老城改造里的烟火气》等。上述稿件的著作权归我报所有。\n"
    "根据《著作权法》的规定，转载须经权利人许可并支付报酬。请贵网于十个工作日内删除上述稿件，"
    "或与我报版权部联系，按标准补签转载协议并支付稿酬。\n锦城日报社版权部\n"
)
_KNIGHTS_ZH = (
    "您好，我们是维权骑士（RightKnights）版权服务团队。\n"
    "受自媒体作者“半城烟沙”委托，我们发现贵平台于2024年2月8日转载了其原创文章"
    "《一碗豆花里的乡愁》，转载链接：https://www.nsnews.example/life/2024/0208/56100.html，"
    "转载未获作者授权。\n请于收到本邮件后3个工作日内删除该文章，或通过我们为作者购买转载"
    "授权。如有疑问请回复本邮件。\n维权骑士 版权监测中心\n"
)
_IMAGE_AGENCY_ZH = (
    "图片版权告知函\n南山新闻网运营方：\n"
    "我司系国内专业图片版权服务机构，对编号为VCG21000012345的图片享有著作权"
    "（或经合法授权享有独家信息网络传播权）。\n"
    "经我司监测，贵司运营的网站（网址：www.nsnews.example/tiyu/2023/0916/50002.html）"
    "未经我司授权，擅自使用了上述图片，侵犯了我司的合法权益。\n"
    "请贵司在收到本函后七个工作日内与我司联系，商谈授权使用费用事宜；"
    "逾期未联系的，我司将通过法律途径解决。\n联系人：刘经理　电话：010-5xxxxxxx\n"
)

CLAIMS: tuple[Row, ...] = (
    Row(
        "author-zh-nimen-no-site-name",
        "关于侵权",
        "你们未经我同意转载了我的文章《秋夜》，请立即删除。\n\n王明",
        "an author who names neither the site nor a link: 你们 before the deed",
    ),
    Row(
        "photographer-zh-nimen-no-removal",
        "",
        "你好，我是摄影师，你们用了我的照片没署名也没付费，请尽快处理。",
        "a photographer's one line, no subject, no link, asking for a fee by implication",
    ),
    Row(
        "dmca-opsec-body",
        "Notice of Claimed Infringement",
        _DMCA_OPSEC,
        "github/dmca 2023-01-09-wiley (OpSec Online's letter), retargeted",
    ),
    Row(
        "dmca-form-body",
        "DMCA takedown request",
        _DMCA_FORM,
        "github/dmca 2023-01-06-mcgraw-hill (GitHub's notice form), retargeted",
    ),
    Row(
        "dmca-opsec-pdf",
        "Copyright notice - nsnews.example",
        "Please see the attached notice.",
        "the OpSec letter as a one-page PDF under a one-line cover",
        ("notice.pdf", _DMCA_OPSEC),
    ),
    Row(
        "dmca-form-docx",
        "",
        "Hello,\n\nAttached is my DMCA takedown notice. Thanks.",
        "the GitHub-form notice in a .docx, no subject",
        ("DMCA notice.docx", _DMCA_FORM),
    ),
    Row(
        "dmca-short-en",
        "Infringement on your site",
        "Hi,\n\nThe article at https://www.nsnews.example/en/culture/2024/01/winter-river.html "
        "is my work. I never gave permission for it to be published. Please remove it.\n\n"
        "Ma Lin",
        "a two-line English author's complaint",
    ),
    Row(
        "photographer-en",
        "my photo",
        "You used my photo on your site without asking: "
        "https://www.nsnews.example/en/city/2024/02/ferry.html\n"
        "Take it down or pay my licence fee of $300.",
        "a photographer's angry English mail",
    ),
    Row(
        "pixsy-style-en",
        "Unlicensed use of image - case 88214",
        "Dear Sir or Madam,\n\nWe act on behalf of the photographer Anna Weber. Our monitoring "
        "found her photograph used on your website at https://www.nsnews.example/en/travel/"
        "2023/07/alps.html without a licence. To resolve this matter we request a retroactive "
        "licence fee of EUR 450, payable within 14 days. Alternatively, remove the image and "
        "pay the fee for past use.\n\nKind regards,\nCase Manager, Image Rights Recovery",
        "a Pixsy/Copytrack-style image agency demand",
    ),
    Row(
        "lawyer-letter-pdf",
        "律师函",
        "南山新闻网：\n附件为律师函，请查收并于期限内处理。",
        "a Chinese lawyer's letter as a PDF, cover note in 附件为…请查收 phrasing",
        ("律师函.pdf", _LAWYER_ZH),
    ),
    Row(
        "lawyer-letter-body",
        "关于贵网站侵犯摄影作品著作权的律师函",
        _LAWYER_ZH,
        "the lawyer's letter in the body",
    ),
    Row(
        "lawyer-letter-docx-no-subject",
        "",
        "见附件。",
        "the lawyer's letter in a .docx, no subject, body 见附件",
        ("律师函（成都某某文化）.docx", _LAWYER_ZH),
    ),
    Row(
        "lawyer-letter-txt-gb",
        "致南山新闻网的律师函",
        "您好，律师函见附件，请查收。",
        "the lawyer's letter as a GB18030 .txt",
        ("律师函.txt", _LAWYER_ZH),
        charset="gb18030",
    ),
    Row(
        "notice-body",
        "侵权通知函",
        _NOTICE_ZH,
        "an author's 侵权通知函 citing 信息网络传播权保护条例 §14",
    ),
    Row(
        "notice-docx",
        "侵权通知",
        "南山新闻网编辑部：\n通知函见附件，请尽快处理。",
        "the 侵权通知函 as a .docx",
        ("侵权通知函.docx", _NOTICE_ZH),
    ),
    Row(
        "notice-with-tougao-subject",
        "关于我的投稿作品被贵网转载的侵权通知",
        _NOTICE_ZH,
        "the 侵权通知函 under a subject that says 投稿",
    ),
    Row(
        "newspaper-body",
        "版权声明",
        _NEWSPAPER_ZH,
        "a newspaper's 版权部 demanding deletion or a reprint fee",
        charset="gb18030",
    ),
    Row(
        "newspaper-pdf",
        "关于转载我报稿件的函",
        "南山新闻网：\n我报版权声明详见附件。",
        "the newspaper's statement as a PDF",
        ("版权声明.pdf", _NEWSPAPER_ZH),
    ),
    Row(
        "rights-knights",
        "【维权骑士】转载授权提醒",
        _KNIGHTS_ZH,
        "a 维权骑士-style rights agency's mail",
    ),
    Row(
        "image-agency-body",
        "图片版权告知函",
        _IMAGE_AGENCY_ZH,
        "a 视觉中国-style image licensing demand",
    ),
    Row(
        "image-agency-pdf",
        "版权告知",
        "贵司好，告知函见附件。",
        "the image agency's demand as a PDF",
        ("图片版权告知函.pdf", _IMAGE_AGENCY_ZH),
    ),
    Row(
        "photographer-angry-short",
        "",
        "你们网站用了我的照片，请删除或付费",
        "the brief's one-line photographer",
    ),
    Row(
        "photographer-angry-url",
        "照片",
        "https://www.nsnews.example/shehui/2024/0305/60220.html 这篇文章的配图是我拍的，"
        "谁允许你们用的？马上删掉！",
        "a photographer with the page link",
    ),
    Row(
        "photographer-pay",
        "关于贵网使用我的摄影作品",
        "你好，贵网2月10日的新闻《春运首日》用了我拍的三张照片，没有署名也没有联系过我。"
        "请按每张500元支付使用费，否则请删除。\n摄影师 杨帆 138xxxx6621",
        "a photographer asking for a fee per photo",
    ),
    Row(
        "author-no-byline-no-fee",
        "文章被转载",
        "我是《外婆的菜园》的作者，你们网站转了我的文章，没署名也没给稿费，请处理。",
        "an author's short complaint (转了, 没给稿费)",
    ),
    Row(
        "author-short-reprint",
        "",
        "贵网站转载我的文章未署名，请立即删除。",
        "a one-line author's demand without 侵权",
    ),
    Row(
        "submitted-then-used",
        "关于我投稿的文章",
        "编辑您好，我去年向贵网投稿《父亲的自行车》，一直没有回复，也没有通知采用，"
        "现在发现贵网已经刊登了我的文章，没有署我的名字，也没有稿费。请给个说法，"
        "否则请删除。",
        "a contributor whose unanswered 投稿 was published without them",
    ),
    Row(
        "traditional-chinese",
        "侵權通知",
        "貴網站未經授權轉載本人文章《港口的霧》，侵犯本人著作權，請立即刪除並支付稿酬。"
        "網址：https://www.nsnews.example/wenhua/2024/0120/57900.html",
        "a Hong Kong author writing in traditional characters",
        charset="big5",
    ),
    Row(
        "forwarded-claim",
        "Fwd: 侵权通知",
        "帮我朋友转一下，她联系不上你们。\n\n---------- Forwarded message ----------\n"
        + _NOTICE_ZH,
        "a claim forwarded by a friend",
    ),
    Row(
        "html-only-163-claim",
        "你们网站侵权了",
        "<div>你好：</div><div>你们网站<a href='https://m.nsnews.example/wenhua/2024/0301/"
        "60015.html'>这篇文章</a>是我写的，我从来没有授权过，请删除。</div>",
        "a 163 HTML-only complaint with the link in an href",
        html_only=True,
        charset="gbk",
    ),
    Row(
        "dmca-many-urls-docx",
        "DMCA Notice",
        "Please find attached our notice listing the infringing pages.",
        "a one-page notice listing 40 URLs, as a .docx",
        (
            "notice.docx",
            _DMCA_OPSEC
            + "\nAdditional infringing locations:\n"
            + "".join(
                f"https://www.nsnews.example/en/books/2024/03/the-salt-road-{i}.html\n"
                for i in range(40)
            ),
        ),
    ),
    Row(
        "dmca-150-urls-txt",
        "Notice of Claimed Infringement",
        "See the attached list.",
        "a notice listing 150 URLs (over 5,000 characters with them), as a .txt",
        (
            "urls.txt",
            _DMCA_OPSEC
            + "".join(
                f"https://www.nsnews.example/en/books/2024/03/the-salt-road-part-{i}.html\n"
                for i in range(150)
            ),
        ),
    ),
    Row(
        "claim-says-tougao-in-body",
        "侵权",
        "你们好，我是一名投稿作者。我在《巴山文学》发表的散文被你们网站擅自转载了，"
        "网址 https://www.nsnews.example/wenhua/2023/1105/52031.html ，请删除或支付稿酬。",
        "a claim whose body says 投稿作者",
    ),
    Row(
        "agency-knights-no-url",
        "转载授权",
        "您好，我们受作者委托进行版权监测。贵平台转载了作者“半城烟沙”的文章《一碗豆花里的乡愁》，"
        "未获授权。请删除该文章或联系我们补办授权。",
        "a rights agency without a link",
    ),
    Row(
        "lawyer-cease-desist-en",
        "Cease and desist - unauthorized use of our client's article",
        'Dear Editor,\n\nThis firm represents Ms. Chen Yu, author of "Rain over the Harbour". '
        "Your website republished her article in full without her consent. We demand that you "
        "remove the article within seven days and compensate our client for the unauthorized "
        "use.\n\nYours faithfully,\nHolt & Partners LLP",
        "an English law firm's cease-and-desist",
    ),
)
