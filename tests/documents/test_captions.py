"""Photo captions in the mail body: by file name, by ordinal, and what must not be taken."""

from __future__ import annotations

import pytest

from intake.documents.captions import MAX_CAPTION_CHARS, find

PHOTOS = ["IMG_2031.jpg", "IMG_2032.jpg", "IMG_2033.jpg"]


@pytest.mark.parametrize(
    ("line", "names", "expected"),
    [
        # the forms contributors write, by file name
        ("图1 IMG_2031.jpg：市民在公园晨练（张三 摄）", PHOTOS,
         {"IMG_2031.jpg": "市民在公园晨练（张三 摄）"}),
        ("照片2.jpg 说明：孩子们在放风筝", ["照片1.jpg", "照片2.jpg"],
         {"照片2.jpg": "孩子们在放风筝"}),
        ("附图：xxx.jpg 为志愿者在清扫街道", ["xxx.jpg"], {"xxx.jpg": "志愿者在清扫街道"}),
        ("photo1.jpg - Volunteers at the market", ["photo1.jpg"],
         {"photo1.jpg": "Volunteers at the market"}),
        ("img_2032.JPG: 夕阳下的老街", PHOTOS, {"IMG_2032.jpg": "夕阳下的老街"}),  # any case
        ("见附件IMG_2033.jpg，雨后的青石板路", PHOTOS, {"IMG_2033.jpg": "雨后的青石板路"}),
        ("市民在公园晨练（IMG_2031.jpg）", PHOTOS, {"IMG_2031.jpg": "市民在公园晨练"}),
        ("- IMG_2031.jpg | 老槐树", PHOTOS, {"IMG_2031.jpg": "老槐树"}),
        # without the extension, where the line starts
        ("IMG_2032：老街的豆浆铺", PHOTOS, {"IMG_2032.jpg": "老街的豆浆铺"}),
        ("图3 IMG_2031 修鞋的李喆大爷", PHOTOS, {"IMG_2031.jpg": "修鞋的李喆大爷"}),  # name wins
        # by ordinal, in the order of the attached images
        ("图1：市民晨练", PHOTOS, {"IMG_2031.jpg": "市民晨练"}),
        ("图二、放风筝的孩子", PHOTOS, {"IMG_2032.jpg": "放风筝的孩子"}),
        ("照片3 说明：老街夜景", PHOTOS, {"IMG_2033.jpg": "老街夜景"}),
        ("第一张：早点铺", PHOTOS, {"IMG_2031.jpg": "早点铺"}),
        ("第三张照片为老槐树", PHOTOS, {"IMG_2033.jpg": "老槐树"}),
        ("第2幅：街坊", PHOTOS, {"IMG_2032.jpg": "街坊"}),
        ("Photo 2: Lantern makers at work", PHOTOS, {"IMG_2032.jpg": "Lantern makers at work"}),
        ("Fig. 1 - The old canal", PHOTOS, {"IMG_2031.jpg": "The old canal"}),
        ("附图：图1 市民晨练", PHOTOS, {"IMG_2031.jpg": "市民晨练"}),
        ("图1 DSC_0001.jpg：市民晨练", PHOTOS, {"IMG_2031.jpg": "市民晨练"}),  # name not attached
        (f"图十二：{'x'}", [f"p{i}.jpg" for i in range(12)], {"p11.jpg": "x"}),
    ],
)  # fmt: skip
def test_caption_forms(line: str, names: list[str], expected: dict[str, str]) -> None:
    assert find(f"编辑老师好：\n稿件见附件。\n{line}\n张三", names) == expected


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("照片两张，请查收", PHOTOS),  # a count, not an ordinal
        ("附件：IMG_2031.jpg、IMG_2032.jpg", PHOTOS),  # a list of names, no captions
        ("图4：不存在的第四张", PHOTOS),  # no fourth image
        ("图书馆前的广场", PHOTOS),  # 图 that is no ordinal
        ("1: 第一点意见", ["1.jpg"]),  # a bare number is not a file name without extension
        ("> 图1：引用的旧邮件", PHOTOS),  # quoted text of an earlier mail
        ("我拍了IMG_2031.jpg", PHOTOS),  # prose ending with the name
        ("IMG_2031.jpg " + "长" * (MAX_CAPTION_CHARS + 1), PHOTOS),  # prose, not a caption
        ("", PHOTOS),
        ("图1：市民晨练", []),
    ],
)
def test_no_caption(body: str, names: list[str]) -> None:
    assert find(body, names) == {}


def test_a_whole_mail() -> None:
    body = (
        "编辑老师您好：\r\n\r\n"
        "稿件《春天里的老街》见附件，另附照片三张：\r\n"
        "图1 IMG_2031.jpg：清晨的豆浆铺（张三 摄）\r\n"
        "图2 IMG_2032.jpg：修鞋的李喆大爷\r\n"
        "第三张：老槐树开花了\r\n\r\n"
        "张三\r\n13800000000\r\n"
    )
    assert find(body, PHOTOS) == {
        "IMG_2031.jpg": "清晨的豆浆铺（张三 摄）",
        "IMG_2032.jpg": "修鞋的李喆大爷",
        "IMG_2033.jpg": "老槐树开花了",
    }


def test_caption_on_the_next_line() -> None:
    body = "IMG_2031.jpg\n市民在公园晨练\n\n图2\n放风筝的孩子\n\nIMG_2033.jpg\nIMG_2032.jpg"
    assert find(body, PHOTOS) == {"IMG_2031.jpg": "市民在公园晨练", "IMG_2032.jpg": "放风筝的孩子"}


def test_first_caption_wins() -> None:
    assert find("图1：晨练\nIMG_2031.jpg：另一个说法", PHOTOS) == {"IMG_2031.jpg": "晨练"}


def test_longer_name_is_not_taken_for_a_shorter_one() -> None:
    names = ["photo1.jpg", "my-photo1.jpg"]
    assert find("my-photo1.jpg: harbour\nphoto1.jpg: market", names) == {
        "my-photo1.jpg": "harbour",
        "photo1.jpg": "market",
    }
