"""A seeded corpus of distinct contributions for the ingest benchmark (benchmarks/ingest.py).

Every message is its own contribution: its own Message-ID, sender, subject and article text
(random sentences, so neither the exact nor the near-duplicate detection folds two of them),
in the shapes real submissions take: plain UTF-8, GB18030 in base64, quoted-printable, HTML
with a plain alternative. 5 % carry a real ~200 KiB JPEG photo (Pillow), 0.5 % a real ~5 MiB
PDF whose text layer is the article ("稿件见附件" in the body). The same seed gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import quopri
import random
import zlib
from collections.abc import Iterator

# Common Chinese characters, roughly by frequency: random runs of them share almost no
# 3-character shingles, so two articles are never near-duplicates of each other.
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
    "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
    "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明"
    "看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料"
    "象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶"
    "油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议"
    "声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影"
)
ENGLISH = (
    "river morning letter window garden quiet harbour lantern winter autumn teacher village "
    "market bridge mountain station season memory promise journey courage silence thunder "
    "meadow orchard kitchen notebook stranger neighbour festival evening blossom shadow"
).split()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红飞鹏斌宇浩凯健俊帆"
DOMAINS = ("qq.example", "163.example", "126.example", "foxmail.example", "mail.example")


def article(rng: random.Random, chars: int) -> str:
    """``chars`` characters of Chinese prose: random runs of characters in sentences."""
    out: list[str] = []
    total = 0
    while total < chars:
        sentence = "".join(rng.choices(HANZI, k=rng.randint(8, 30))) + rng.choice("，。。！？；")
        out.append(sentence)
        total += len(sentence)
        if rng.random() < 0.08:
            out.append("\n\n")
    return "".join(out)


def english(rng: random.Random, words: int) -> str:
    """``words`` words of English-looking prose (a PDF's Helvetica text layer)."""
    picked = [rng.choice(ENGLISH) for _ in range(words)]
    picked += [f"{rng.randrange(10**6):06d}" for _ in range(words // 10)]  # distinct shingles
    rng.shuffle(picked)
    return " ".join(picked)


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _b64(text: str, charset: str) -> bytes:
    return base64.encodebytes(text.encode(charset))


def _header_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


class Photos:
    """Real JPEG photos of about 200 KiB, each with different bytes (a seeded noise image with
    a gradient, a band of it changed per photo)."""

    def __init__(self, seed: int) -> None:
        from PIL import Image

        rng = random.Random(seed)
        self._image = Image.frombytes("RGB", (510, 390), rng.randbytes(510 * 390 * 3))
        self._rng = rng

    def photo(self) -> bytes:
        from PIL import Image

        image = self._image.copy()
        band = Image.frombytes("RGB", (510, 8), self._rng.randbytes(510 * 8 * 3))
        image.paste(band, (0, self._rng.randrange(0, 382)))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=93)
        return out.getvalue()


class Pdfs:
    """Real PDFs of about 5 MiB: a page of Helvetica text (the article) and a large scanned
    photo (one DCT-encoded image made once), assembled with a correct cross-reference table."""

    def __init__(self, seed: int) -> None:
        from PIL import Image

        rng = random.Random(seed)
        image = Image.frombytes("RGB", (2200, 1700), rng.randbytes(2200 * 1700 * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=97)
        self._jpeg = out.getvalue()
        self._size = image.size

    def pdf(self, text: str) -> bytes:
        lines = [text[i : i + 90] for i in range(0, len(text), 90)][:60]
        content = b"BT /F1 10 Tf 40 800 Td 12 TL\n"
        for line in lines:
            safe = line.replace("\\", "").replace("(", "").replace(")", "")
            content += b"(" + safe.encode("latin-1", "replace") + b") '\n"
        content += b"ET\nq 500 0 0 380 40 40 cm /Im1 Do Q\n"
        packed = zlib.compress(content)
        width, height = self._size
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed)
            + packed
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
            % (width, height)
            + b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % len(self._jpeg)
            + self._jpeg
            + b"\nendstream",
        ]
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
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


def _head(seq: int, rng: random.Random, subject: str) -> tuple[bytes, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    addr = f"writer{seq}.{rng.randrange(10**6)}@{rng.choice(DOMAINS)}"
    head = (
        f"From: {_header_word(name)} <{addr}>\n"
        "To: tougao@news.example\n"
        f"Subject: {_header_word(subject)}\n"
        f"Message-ID: <c{seq}.{rng.randrange(10**9)}@{addr.rpartition('@')[2]}>\n"
        f"Date: Mon, {1 + seq % 28} Sep 2025 {seq % 24:02d}:{seq % 60:02d}:00 +0800\n"
        "MIME-Version: 1.0\n"
    )
    return head.encode(), name


def _subject(rng: random.Random) -> str:
    return "投稿：" + "".join(rng.choices(HANZI, k=rng.randint(4, 12)))


def plain(seq: int, rng: random.Random) -> bytes:
    """A submission in the body, in one of the encodings Chinese mail clients use."""
    head, name = _head(seq, rng, _subject(rng))
    text = article(rng, rng.randint(600, 3000))
    text += f"\n\n作者：{name}\n电话：1380000{seq % 10000:04d}\n"
    shape = rng.random()
    if shape < 0.4:
        part = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        return _crlf(head + part + _b64(text, "utf-8"))
    if shape < 0.6:
        part = b"Content-Type: text/plain; charset=gb18030\nContent-Transfer-Encoding: base64\n\n"
        return _crlf(head + part + _b64(text, "gb18030"))
    if shape < 0.75:
        part = (
            b"Content-Type: text/plain; charset=utf-8\n"
            b"Content-Transfer-Encoding: quoted-printable\n\n"
        )
        return _crlf(head + part + quopri.encodestring(text.encode()))
    html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    html = f'<html><body><div style="font-size:14px">{html}</div></body></html>'
    return _crlf(
        head
        + b'Content-Type: multipart/alternative; boundary="alt"\n\n--alt\n'
        + b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + _b64(text, "utf-8")
        + b"--alt\nContent-Type: text/html; charset=utf-8\n"
        + b"Content-Transfer-Encoding: base64\n\n"
        + _b64(html, "utf-8")
        + b"--alt--\n"
    )


def with_file(seq: int, rng: random.Random, body: str, name: str, ctype: str, data: bytes) -> bytes:
    head, _ = _head(seq, rng, _subject(rng))
    return _crlf(
        head
        + b'Content-Type: multipart/mixed; boundary="mix"\n\n--mix\n'
        + b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + _b64(body, "utf-8")
        + f'--mix\nContent-Type: {ctype}; name="{name}"\n'.encode()
        + b"Content-Transfer-Encoding: base64\n"
        + f'Content-Disposition: attachment; filename="{name}"\n\n'.encode()
        + base64.encodebytes(data)
        + b"--mix--\n"
    )


def corpus(count: int, seed: int = 20261127) -> Iterator[bytes]:
    """``count`` distinct contributions (5 % with a photo, 0.5 % with a PDF), seeded."""
    rng = random.Random(seed)
    photos: Photos | None = None
    pdfs: Pdfs | None = None
    for seq in range(count):
        roll = rng.random()
        if roll < 0.005:
            pdfs = pdfs or Pdfs(seed)
            data = pdfs.pdf(english(rng, 700))
            note = "编辑老师您好：\n稿件见附件，请查收。谢谢！\n"
            yield with_file(seq, rng, note, f"article{seq}.pdf", "application/pdf", data)
        elif roll < 0.055:
            photos = photos or Photos(seed)
            body = article(rng, rng.randint(500, 1500)) + "\n\n图1：" + article(rng, 12)
            yield with_file(seq, rng, body, f"photo{seq}.jpg", "image/jpeg", photos.photo())
        else:
            yield plain(seq, rng)
