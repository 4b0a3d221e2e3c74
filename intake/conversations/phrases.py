"""The phrase tables that intake.conversations.consent reads answers with (data, not code).

Every entry is a regular expression over *normalised* text: NFKC (full-width folded), the
traditional characters of ``TRADITIONAL`` made simplified, case folded, straight apostrophes,
invisible characters dropped and spaces or stray punctuation between Chinese characters removed
("同 意" and "同·意" are "同意"). Chinese entries match anywhere; English entries match whole
words. docs/consent.md says what each table is for; tests/conversations/test_consent.py reads
real-style answers with them. Single characters are meant: "如", "就", "才", "后", "不" are
conditions and negations wherever they stand, and the courtesies take out the few fixed words
("如下", "不客气", "最后") that would make a plain answer unclear for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Table:
    """One class of phrase, in Chinese and in English (and pinyin where a condition hides)."""

    name: str
    zh: tuple[str, ...] = ()
    en: tuple[str, ...] = ()


# fmt: off

# Traditional characters of the words below, and their simplified forms (授權 is 授权).
TRADITIONAL = dict(zip(
    "權沒問題無條話們貴報發謝願會對許須說還後費賬帳轉載麼嗎這個確認絕擔將為與時給網絡難應該"
    "決並請於隻僅錢價銀戶號寶償匯議討論慮試準強暫礙關係歡經過獨紙電刪減動標筆實歸協約內間樣"
    "見觀點評讓贊樂盡隨採當則萬視別誰幾麻煩顧談錯門讀處導編輯師順聯繫繼續錄遲傳歲類級區誌雜"
    "詢復體來麗幫賠額維護選擇簽節",
    "权没问题无条话们贵报发谢愿会对许须说还后费账账转载么吗这个确认绝担将为与时给网络难应该"
    "决并请于只仅钱价银户号宝偿汇议讨论虑试准强暂碍关系欢经过独纸电删减动标笔实归协约内间样"
    "见观点评让赞乐尽随采当则万视别谁几麻烦顾谈错门读处导编辑师顺联系继续录迟传岁类级区志杂"
    "询复体来丽帮赔额维护选择签节",
    strict=True,
))

# Blanked out first: fixed words that hold a marker character but say nothing about the request
# ("不客气" is no negation, "非常" no "非", "如下" no "如", "无条件" the opposite of a condition).
COURTESIES = Table(
    "courtesy",
    zh=(
        r"不客气", r"不用客气", r"不必客气", r"不用谢", r"不谢", r"不好意思", r"不胜感激",
        r"感激不尽",
        r"不胜荣幸", r"不错", r"毫不犹豫", r"没关系", r"没错", r"非常", r"无条件地?", r"无误",
        r"如下", r"如今", r"如此", r"如实", r"如期", r"例如", r"比如", r"诸如", r"一如既往",
        r"正如",
        r"譬如", r"刚才", r"最后", r"首先", r"先生", r"再见", r"再次", r"再会", r"当然", r"费心",
        r"付出", r"别人", r"别的", r"别家", r"别处", r"特别", r"分别", r"区别", r"类别", r"级别",
        r"个别", r"未来", r"有限责任公司", r"有限公司", r"其他", r"其它", r"目前", r"前辈",
        r"改(?:变)?(?:了)?主意",  # "我改主意了": a change of mind, not an edit
        r"对不起", r"期待", r"期盼", r"求之不得", r"巴不得(?:呢)?", r"再好不过",
        r"等(?:待)?(?:你们|您)?的?好消息", r"就这(?:样|么)(?:吧|定了)?",
        r"(?:没有|没|无)(?:任何|什么)?(?:附加)?(?:条件|要求)",  # "没有任何条件": none at all
        r"就?按(?:照)?(?:你们|您|贵报|贵刊|贵网|编辑部|老师)(?:说的|的意思)?(?:办|来)",
        r"(?:谢谢|感谢|抱歉|对不起|不好意思)[,，]?(?:您|你|老师|编辑)?[,，]?(?:但是|但|不过)",
        r"如有(?:任何)?(?:问题|疑问|不明|需要)(?:的话)?[,，]?(?:请|可|欢迎)?(?:随时)?(?:与我|和我|跟我)?"
        r"(?:联系|联络|告知|告诉我)(?:我)?",
        r"有(?:任何)?(?:问题|疑问)(?:请|可|欢迎)?(?:随时)?(?:与我|和我|跟我)?(?:联系|联络)(?:我)?",
        r"等?(?:刊登|发表|刊发|发布|刊出|上线)(?:了|之后|以后|后)?[,，]?(?:请|麻烦|烦请)?(?:告诉|告知|通知)"
        r"(?:我)?(?:一声|一下)?",
    ),
    en=(
        r"no problem(?: at all)?", r"not a problem", r"no worries", r"can(?:'t|not) wait",
        r"no strings attached", r"(?:with )?no (?:conditions?|strings)",
        r"why not(?=\s*[!.,]|\s*$)", r"you're welcome", r"thank you", r"best regards",
        r"kind regards", r"best wishes", r"(?:thanks?(?: you)?|sorry),? but",
        r"terms (?:and|&) conditions", r"unconditional(?:ly)?",
        r"without (?:any )?conditions?",
        r"let me know if you (?:need|have) (?:anything|any (?:questions?|further \w+))(?: else)?",
        r"if you (?:have|need) (?:any|more|further) (?:questions?|information|details)",
        r"(?:please )?(?:do not|don't) hesitate to (?:contact|reach|ask)(?: me| out)?",
        r"thanks? (?:you )?for (?:considering|your consideration|your time|your interest|reading"
        r"|accepting|publishing)(?: my (?:work|article|piece|submission|story|essay|poem))?",
        r"(?:please )?(?:let me know|inform me|tell me|notify me) (?:when|once|after) (?:it is|it's"
        r"|it gets|it has been|it goes) (?:published|online|out|live|up)",
    ),
)

# Questions that hold a negation ("可不可以", "同意不同意", "有没有") become a question mark
# before anything else is read, so the "不可以" in "可不可以" is no refusal.
QUESTION_COMPOUNDS = Table(
    "question",
    zh=(
        # Not "不行不行" (a refusal said twice).
        r"(?<![不没])(?P<a>[\u4e00-\u9fff]{1,2})[不没](?P=a)", r"是否", r"能否", r"可否", r"与否",
        r"同意否", r"可以否", r"行否",
    ),
)

REFUSALS = Table(
    "refusal",
    zh=(
        # The verb with what it refuses: "不同意授权" holds no grant "授权".
        r"(?:不同意|不授权|拒绝|不愿意|不愿|不想|不打算|不准备|不允许|不接受|不可以|不答应|不赞成"
        r"|反对)"
        r"(?:将?(?:该|此|本|我的|这篇)?(?:作品|文章|稿件)?(?:授权|刊登|发表|刊用|使用|转载|发布))?",
        r"不行", r"不准", r"不许", r"谢绝", r"婉拒", r"撤稿", r"退稿", r"撤回(?:稿件|投稿|授权)?",
        r"(?:不要|别|请勿|勿|不得|不能|不可)(?:刊登|发表|刊用|使用|用|发布|发|登|转载|采用)",
    ),
    en=(
        r"disagree[sd]?", r"(?:do|does|did) not agree", r"(?:don't|dont|doesn't|didn't) agree",
        r"not agreed?", r"(?:i )?refuse[sd]?", r"den(?:y|ied|ies)", r"permission denied",
        r"(?:do not|don't|dont) (?:give|grant)(?: you)?(?: my)? (?:permission|consent)",
        r"declined?", r"(?:i )?do not consent",
        r"(?:don't|dont) consent", r"withdraw(?:n|s)?", r"not willing", r"unwilling",
        r"(?:please )?(?:do not|don't|dont) (?:publish|use|print|post)(?: it)?", r"(?:i )?object",
        r"no thanks?(?: you)?", r"not interested",
    ),
)
# A sentence that is nothing but one of these (and thanks or sorry) refuses: "不。", "No.".
STANDALONE_REFUSALS = Table(
    "refusal",
    zh=(r"不", r"不要", r"不了", r"不用了", r"不必了", r"算了", r"否"),
    en=(r"no", r"nope"),
)

GRANTS = Table(
    "grant",
    zh=(
        r"同意(?!书|函|与否|的事)",
        r"同义",  # the pinyin input method's slip for 同意
        # 可以 as the answer, not "我也可以投别家" (I could also send it elsewhere).
        r"(?:当然|完全|都|也|是)?可以(?=$|[的啊呀吧哈嗯呐啦喔哦噢,，.。!！~、\s]|刊|发|用|使|转|授|登|采"
        r"|公开|放)",
        r"没(?:有|什么|啥)?问题",
        # 授权 as the verb, not "收到授权请求" (received the request).
        r"授权(?!请求|事宜|协议|内容|范围|条款|函|信|邮件|的事|的问题|书|声明)",
        r"允许", r"准许", r"许可", r"乐意", r"愿意", r"欢迎(?:刊登|转载|使用|发表|采用|刊用|刊发)",
        r"我接受", r"接受授权", r"答应", r"赞成", r"(?:没有|没|无)(?:任何)?异议",
        r"(?:^|(?<=[,，\s]))行(?:的|啊|呀|吧)?(?=$|[,，.。!！\s])",  # 行 alone, not 银行 or 发行
        r"(?:尽管|随便|放心)(?:用|刊登|发表|使用|发)", r"请(?:刊登|发表|刊用|采用)",
        # "你们发吧", "发吧": go ahead and publish ("不发吧" keeps its 不, a negation).
        r"(?:(?<=^)|(?<=[,，\s]))(?:你们|您)?(?:那)?就?(?:发|登|用|刊登|发表)(?:吧|呗)",
    ),
    en=(
        r"agree[sd]?", r"agre", r"aggree[sd]?", r"argee[sd]?", r"agreee[sd]?",
        r"(?:i )?consent(?:ed)?", r"yes", r"yeah", r"yep", r"yup", r"sure", r"of course",
        r"certainly", r"absolutely", r"by all means", r"go ahead", r"go for it", r"ok to publish",
        r"(?:i have )?no objections?",
        r"(?:you )?(?:may|can) (?:publish|use|print|post|run)(?: it)?",
        r"feel free to (?:publish|use|print|post|run)", r"permission (?:is )?granted",
        r"(?:i )?(?:hereby )?(?:give|grant)(?: you)?(?: my)? "
        r"(?:permission|consent|authori[sz]ation)",
        r"(?:i )?authori[sz]e", r"approved?", r"(?:i )?accept(?:ed)?",
        r"(?:that's|that is|it's|it is|all) fine", r"fine (?:with|by) me",
        r"please (?:publish|go ahead|use it)", r"you have my (?:permission|consent|blessing)",
        r"(?:i am |i'm )?happy for you to (?:publish|use|print|post|run)(?: it)?",
        # "Ok, publish it." at the start of a sentence only ("to publish it elsewhere" is none).
        r"^(?:(?:ok|okay|yes|sure|fine|alright|so|then)[, ]+)*(?:please )?(?:go ahead and )?"
        r"publish it",
    ),
)

# Any of these anywhere in a grant's sentence, before or after the verb, undoes it.
NEGATIONS = Table(
    "negation",
    zh=(
        r"不", r"没", r"未", r"别", r"勿", r"莫", r"毋", r"甭", r"否", r"拒", r"无法", r"无权",
        r"无意",
        r"无须", r"无需", r"并非", r"很难", r"难以", r"太难", r"没法", r"没办法",
        # ❌ ❎ ✖ 🚫 ⛔ 👎 🙅
        "\u274c", "\u274e", "\u2716", "\U0001f6ab", "\u26d4", "\U0001f44e", "\U0001f645",
    ),
    en=(
        r"not", r"no", r"never", r"cannot", r"unable", r"neither", r"nor", r"hardly", r"barely",
        r"\w+n't", r"dont", r"cant", r"wont", r"didnt", r"doesnt", r"isnt", r"arent", r"wouldnt",
        r"couldnt", r"shouldnt", r"havent", r"hasnt", r"without", r"nothing", r"against",
        r"bu ?tongyi", r"bu ?neng", r"bu ?yao", r"mei ?you",
    ),
)

CONDITIONS = Table(
    "condition",
    zh=(
        r"如果", r"如", r"若", r"假如", r"假使", r"假设", r"倘若", r"倘", r"要是", r"只要", r"只有",
        r"除非", r"前提", r"条件", r"的话", r"才", r"就", r"一旦", r"万一", r"否则", r"不然", r"等",
        r"待", r"之后", r"以后", r"后", r"再", r"先", r"必须", r"须", r"需", r"要求", r"看情况",
        r"视情况", r"视乎", r"取决", r"前", r"当.{0,15}时", r"生效", r"合同", r"签约", r"签署",
    ),
    en=(
        r"if", r"iff", r"only if", r"as long as", r"so long as", r"provided", r"providing",
        r"unless", r"on (?:the )?condition", r"conditional(?:ly)?", r"conditions?", r"subject to",
        r"assuming", r"given that", r"in case", r"once", r"after", r"when", r"whenever", r"until",
        r"till", r"before", r"as soon as", r"depends?", r"depending", r"then", r"must", r"need",
        r"needs", r"require[sd]?", r"have to", r"has to", r"otherwise", r"upon", r"pending",
        r"in exchange", r"in return", r"contract",
        r"ru ?guo", r"zhi ?yao", r"chu ?fei", r"qian ?ti", r"tiao ?jian", r"de ?hua",
    ),
)

# Partial grants and terms of the contributor's own: scope, edits, byline, exclusivity, time.
RESERVATIONS = Table(
    "reservation",
    zh=(
        r"只", r"仅", r"限", r"部分", r"纸质", r"纸媒", r"印刷", r"除了", r"除外", r"除去",
        r"除.{0,12}外",
        r"以外", r"之外", r"不包括", r"不含", r"但", r"不过", r"可是", r"然而", r"署名", r"笔名",
        r"真名", r"实名", r"匿名", r"修改", r"改动", r"删改", r"删减", r"删", r"改", r"标题",
        r"题目",
        r"保留",
        r"独家", r"一次性", r"首发", r"期限", r"为期", r"年内", r"以内", r"之内", r"有效期",
        r"到期",
        r"归", r"商用", r"商业", r"第三方", r"转授", r"请求",
        # 一年
        r"(?:[一二三四五六七八九十两半几]|\d)\s*(?:个)?(?:年|月)(?![\d〇一二三四五六七八九十])",
    ),
    en=(
        r"only", r"except", r"excepting", r"excluding", r"exclude[sd]?", r"but", r"however",
        r"although", r"though", r"partial(?:ly)?", r"part of", r"credit(?:ed)?", r"attribution",
        r"byline", r"pen ?name", r"real name", r"anonymous(?:ly)?", r"edit(?:s|ed|ing)?",
        r"change[sd]?", r"modif(?:y|ied|ication|ications)", r"alter(?:ed)?", r"title", r"headline",
        r"exclusive(?:ly)?", r"non-?exclusive", r"limit(?:ed|s)?", r"restrict(?:ed|ion|ions)?",
        r"reserve[sd]?", r"retain", r"commercial", r"third part(?:y|ies)", r"sub-?licen[cs]e",
        r"requests?", r"expire[sd]?", r"within", r"as far as", r"in part",
        r"keep (?:my|the) (?:name|title|text|byline|words|original)",
        r"for (?:\d+|one|two|three|five|ten) (?:years?|months?|days?|weeks?)",
    ),
)

# The piece was published or sent elsewhere already: the request asks the contributor to
# guarantee first publication, so a grant beside this is for an editor.
ELSEWHERE = Table(
    "elsewhere",
    zh=(
        r"(?:发|登|刊|投|用|发表|刊登|发布|刊发|转载|上传)过",
        r"已(?:经)?(?:在|发|投|登|刊|公开|上传)",
        r"也投", r"投了", r"同时投", r"一稿多投",
    ),
    en=(
        r"already (?:been )?(?:published|posted|printed|submitted|sent|online|out|appeared)",
        r"(?:published|posted|printed|submitted|appeared) (?:before|elsewhere|already|previously"
        r"|earlier)",
        r"previously", r"elsewhere",
    ),
)

# Money: a payment is a term, whatever the sentence around it says.
PAYMENT = Table(
    "payment",
    zh=(
        r"稿费", r"稿酬", r"报酬", r"酬劳", r"酬金", r"润笔", r"付费", r"付款", r"支付", r"付",
        r"费",
        r"到账", r"汇款", r"转账", r"打款", r"收款", r"钱", r"(?<!单)元", r"人民币", r"价", r"银行",
        r"账户", r"账号", r"卡号", r"支付宝", r"无偿", r"有偿", r"红包", r"奖金", r"酬", r"[$¥€£]",
        r"[一二三四五六七八九十两几\d]+\s*(?:百|千|万)(?!字)",  # 五百, 1千 (not 三千字)
    ),
    en=(
        r"pay", r"pays", r"paid", r"paying", r"payments?", r"fees?", r"royalt(?:y|ies)", r"money",
        r"compensat(?:e|ed|ion)", r"remuneration", r"honorarium", r"charges?", r"price",
        r"costs?", r"free", r"rmb", r"yuan", r"usd", r"cny", r"dollars?", r"invoice", r"bank",
        r"paypal", r"alipay", r"cash", r"gao ?fei", r"fu ?fei", r"fu ?kuan",
    ),
)

# Doubt and delay: "应该可以" (should be fine), "I think so", "原则上同意".
HEDGES = Table(
    "hedge",
    zh=(
        r"应该", r"可能", r"也许", r"大概", r"或许", r"估计", r"考虑", r"想想", r"再说", r"看看",
        r"原则上", r"基本", r"暂", r"勉强", r"试试", r"好像", r"似乎", r"差不多", r"商量", r"研究",
        r"另议", r"面议", r"商议", r"再议", r"协商", r"待定", r"犹豫", r"确认一下", r"让我确认",
        r"过目",
        r"看一下", r"想一想",
        "\U0001f914",  # 🤔
    ),
    en=(
        r"maybe", r"perhaps", r"probably", r"possibly", r"might", r"would", r"could", r"should",
        r"\w+'d", r"yet", r"think", r"guess", r"suppose", r"in principle", r"basically", r"mostly",
        r"partly", r"tentative(?:ly)?", r"for now", r"temporar(?:y|ily)", r"provisional(?:ly)?",
        r"consider(?:ing)?", r"unsure", r"later", r"hmm+", r"negotiable", r"negotiate",
        r"discuss", r"let me think",
    ),
)

# Agreement with something other than our request ("同意您的意见", "I agree with you").
OTHER_OBJECTS = Table(
    "another matter",
    zh=(
        r"观点", r"看法", r"意见", r"建议", r"说法", r"评价", r"的处理", r"的安排", r"的决定",
        # Someone else's answer, or an answer for someone else.
        r"他", r"她", r"家人", r"爱人", r"老公", r"老婆", r"妻子", r"丈夫", r"父母", r"父亲",
        r"母亲",
        r"爸", r"妈", r"朋友", r"同事", r"合作者", r"合著者", r"共同作者", r"转告", r"转达",
        r"代(?:他|她|为|替|表)", r"替(?:他|她)",
    ),
    en=(
        r"with (?:you|your|him|her|them|the editor|what)",
        r"your (?:point|opinion|view|suggestion|comment|idea)s?",
        r"he", r"she", r"they", r"his", r"her", r"their", r"wife", r"husband", r"co-?authors?",
        r"parents?", r"father", r"mother", r"on behalf",
    ),
)

# Question marks and words (beside the compounds above).
QUESTIONS = Table(
    "question",
    zh=(
        r"[?？\u2753\u2754]", r"吗", r"嘛", r"呢", r"(?<![那这多])么", r"如何", r"怎", r"为何",
        r"哪",
        r"谁", r"几时", r"多少", r"何时", r"咋", r"啥",
    ),
    en=(r"whether", r"what", r"why", r"how"),
)
# An English sentence that starts with one of these asks, with or without its "?".
QUESTION_STARTS = (
    r"what", r"why", r"how", r"which", r"who", r"whom", r"whose", r"where", r"when", r"do",
    r"does", r"did", r"shall", r"should", r"can", r"could", r"would", r"will", r"is", r"are",
    r"am", r"may", r"must", r"have", r"has",
)

# fmt: on
