"""intake.text.fingerprints: shingles, MinHash signatures and band keys of articles."""

from __future__ import annotations

import random
import statistics

from intake.text import fingerprints as dedupe

ARTICLE = (
    "三月的风吹过老街，青石板路上还留着昨夜的雨水。街口那家开了三十年的豆浆铺，每天清晨五点半准时亮灯，"
    "老板王师傅说，这是他父亲留下的规矩。我第一次走进这条街是在2019年，那时我刚到这座城市工作，"
    "租住在巷子尽头的一间阁楼里。每天下班，我都会绕路经过这里，看看修鞋的李大爷，听听茶馆里的评书。"
    "后来城市改造，很多老房子拆了，街坊们也陆续搬走。可每到春天，总有人回来看看那棵老槐树。"
)
OTHER = (
    "秋天的田野一片金黄，稻穗低垂着头，像是在向土地致谢。爷爷一早就扛着镰刀下了地，"
    "他说今年的收成比去年好，雨水来得及时，虫害也少。村口的晒谷场上，孩子们追逐打闹，"
    "母亲们把新米装进布袋，准备寄给在城里打工的儿女。傍晚的炊烟升起来的时候，整个村子都是饭香。"
)


def resend_with_trivial_edits(text: str) -> str:
    """What a contributor resends a week later: new line breaks, punctuation, two words changed."""
    edited = text.replace("，", ", ").replace("。", "。\n\n").replace("老板王师傅", "店主王师傅")
    return "（修改稿）\n" + edited.replace("李大爷", "李师傅")


def test_normalise_drops_spacing_punctuation_and_case() -> None:
    assert dedupe.normalise("Ｈｅｌｌｏ， World！\n 你好。") == "helloworld你好"


def test_shingles_need_no_word_segmentation() -> None:
    assert len(dedupe.shingles("春天来了")) == 2  # 春天来, 天来了
    assert dedupe.shingles("春天来了") == dedupe.shingles("春 天，来了！")
    assert dedupe.shingles("") == frozenset()


def test_trivial_edits_stay_similar_other_text_does_not() -> None:
    resent = resend_with_trivial_edits(ARTICLE)
    assert dedupe.similarity(ARTICLE, resent) > 0.8
    assert dedupe.similarity(ARTICLE, OTHER) < 0.05
    a, b, c = (dedupe.fingerprint(t) for t in (ARTICLE, resent, OTHER))
    assert a is not None and b is not None and c is not None
    assert (
        abs(dedupe.estimate(a.signature, b.signature) - dedupe.similarity(ARTICLE, resent)) < 0.15
    )
    shared = {band for band in a.bands} & set(b.bands)
    assert len(shared) >= 8  # found as candidates by many bands
    assert not set(a.bands) & set(c.bands)


def test_fingerprint_is_stable_across_processes() -> None:
    # Band keys are stored: they must not depend on Python's per-process string hashing, so a
    # known text has known keys (a change here needs every stored fingerprint recomputed).
    found = dedupe.fingerprint(
        "三月的风吹过老街，青石板路上还留着昨夜的雨水。街口那家开了三十年的豆浆铺"
    )
    assert found is not None
    assert len(found.signature) == dedupe.PERMUTATIONS and len(found.bands) == dedupe.BANDS
    assert found.bands[0] == (0, "1be65665baf4415c7cfb")
    assert found.bands[31] == (31, "05128b22841115b0246f")


def test_short_texts_are_not_compared() -> None:
    assert dedupe.fingerprint("见附件") is None
    assert dedupe.fingerprint("稿件如下，请查收。谢谢！") is None


def test_estimate_is_unbiased() -> None:
    rng = random.Random(7)
    errors = []
    for _ in range(100):
        common = {rng.getrandbits(32) for _ in range(300)}
        a = frozenset(common | {rng.getrandbits(32) for _ in range(100)})
        b = frozenset(common | {rng.getrandbits(32) for _ in range(100)})
        errors.append(
            dedupe.estimate(dedupe.signature(a), dedupe.signature(b)) - dedupe.jaccard(a, b)
        )
    assert abs(statistics.mean(errors)) < 0.02
    assert statistics.pstdev(errors) < 0.06


def test_empty_bins_are_filled_consistently() -> None:
    tiny = frozenset({1, 2, 3})
    sig = dedupe.signature(tiny)
    assert len(sig) == dedupe.PERMUTATIONS
    assert dedupe.estimate(sig, dedupe.signature(tiny)) == 1.0
    assert dedupe.estimate(sig, dedupe.signature(frozenset({4, 5, 6}))) < 0.2
