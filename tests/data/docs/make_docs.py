"""Regenerate the committed test documents with the real writers that contributors use.

Needs LibreOffice (Debian: ``apt-get install libreoffice-writer-nogui fonts-wqy-microhei``),
Info-ZIP ``zip`` and, in the virtualenv, python-docx and msoffcrypto-tool. CI never runs this:
the tests read the committed outputs. Run from anywhere::

    .venv/bin/python tests/data/docs/make_docs.py
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

ZH_TITLE = "春天里的老街"
ZH_PARAGRAPHS = [
    "三月的风吹过老街，青石板路上还留着昨夜的雨水。街口那家开了三十年的豆浆铺，"
    "每天清晨五点半准时亮灯，老板王镕师傅说，这是他父亲留下的规矩。",
    "我第一次走进这条街是在2019年，那时我刚到这座城市工作，租住在巷子尽头的一间阁楼里。"
    "每天下班，我都会绕路经过这里，看看修鞋的李喆大爷，听听茶馆里的评书。",
    "后来城市改造，很多老房子拆了，街坊们也陆续搬走。可每到春天，"
    "总有人回来看看那棵老槐树——它还在，花开得比往年更盛。",
    "有人问我，为什么总写这条街？我想，是因为“家”不只是一间房子，"
    "而是一群人、一段日子、一种味道。用 Python 写程序的间隙，我常常想起它。",
]
ZH_TABLE = [["年份", "事件"], ["1990", "豆浆铺开张"], ["2019", "我搬来老街"]]
ZH_FOOTNOTE = "老槐树据说种于清朝末年。"

EN_TITLE = "The Old Street in Spring"
EN_PARAGRAPHS = [
    "The March wind blows down the old street, and last night's rain still lies on the flagstones.",
    "The soy-milk shop at the corner has opened at half past five every morning for thirty years.",
    "When the city rebuilt the district, most neighbours moved away, "
    "but the old locust tree stayed.",
]


def _html(title: str, paragraphs: list[str], table: list[list[str]] | None, footnote: str) -> str:
    """Writer-flavoured HTML: LibreOffice imports the footnote markup as a real footnote."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for i, para in enumerate(paragraphs):
        text = html.escape(para)
        if i == 1 and footnote:
            text += (
                '<a class="sdfootnoteanc" name="sdfootnote1anc" href="#sdfootnote1sym">'
                "<sup>1</sup></a>"
            )
        if i == 2:
            text += ' <a href="https://example.org/laojie">老街地图</a>'
        parts.append(f"<p>{text}</p>")
    if table:
        parts.append("<table border='1'>")
        for row in table:
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in row)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    if footnote:
        parts.append(
            '<div id="sdfootnote1"><p><a class="sdfootnotesym" name="sdfootnote1sym" '
            f'href="#sdfootnote1anc">1</a>{html.escape(footnote)}</p></div>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _soffice(source: Path, target_ext: str, out: Path, filter_spec: str) -> None:
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as outdir:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--infilter=HTML (StarWriter)",
                "--convert-to",
                filter_spec,
                "--outdir",
                outdir,
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        produced = Path(outdir) / (source.stem + "." + target_ext)
        shutil.move(produced, out)


def _wordpad_rtf(paragraphs: list[str]) -> bytes:
    """RTF as WordPad writes it on Chinese Windows: \\ansicpg936 and GBK bytes as \\'hh,
    characters outside GBK as \\uN? (UTF-16 code units, so an emoji is a surrogate pair)."""
    out = [
        b"{\\rtf1\\ansi\\ansicpg936\\deff0\\nouicompat\\deflang1033\\deflangfe2052"
        b"{\\fonttbl{\\f0\\fnil\\fcharset134 \\'cb\\'ce\\'cc\\'e5;}}\r\n"
        b"{\\*\\generator Riched20 10.0.19041}\\viewkind4\\uc1 \r\n"
        b"\\pard\\sa200\\sl276\\slmult1\\f0\\fs22\\lang2052 "
    ]
    for para in paragraphs:
        for ch in para:
            if ch in "\\{}":
                out.append(b"\\" + ch.encode())
            elif ord(ch) < 0x80:
                out.append(ch.encode())
            else:
                try:
                    out.append(b"".join(b"\\'%02x" % b for b in ch.encode("gbk")))
                except UnicodeEncodeError:
                    units = ch.encode("utf-16-le")
                    for i in range(0, len(units), 2):
                        unit = int.from_bytes(units[i : i + 2], "little")
                        signed = unit - 0x10000 if unit > 0x7FFF else unit
                        out.append(b"\\u%d?" % signed)
        out.append(b"\\par\r\n")
    out.append(b"}\r\n\x00")
    return b"".join(out)


def _python_docx(out: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading(ZH_TITLE, level=1)
    for para in ZH_PARAGRAPHS:
        document.add_paragraph(para)
    table = document.add_table(rows=len(ZH_TABLE), cols=2)
    for r, row in enumerate(ZH_TABLE):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    document.core_properties.author = "test"
    document.save(str(out))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        zh = work / "article-zh.html"
        zh.write_text(_html(ZH_TITLE, ZH_PARAGRAPHS, ZH_TABLE, ZH_FOOTNOTE), encoding="utf-8")
        en = work / "article-en.html"
        en.write_text(_html(EN_TITLE, EN_PARAGRAPHS, None, ""), encoding="utf-8")

        _soffice(zh, "docx", HERE / "article-zh-libreoffice.docx", "docx:MS Word 2007 XML")
        _soffice(zh, "doc", HERE / "article-zh.doc", "doc:MS Word 97")
        _soffice(zh, "rtf", HERE / "article-zh.rtf", "rtf:Rich Text Format")
        _soffice(zh, "pdf", HERE / "article-zh.pdf", "pdf:writer_pdf_Export")
        _soffice(en, "pdf", HERE / "article-en.pdf", "pdf:writer_pdf_Export")
        _soffice(en, "doc", HERE / "article-en.doc", "doc:MS Word 97")
        _soffice(zh, "html", HERE / "article-zh.html", "html:HTML (StarWriter)")
        locked = (
            'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
            '"DocumentOpenPassword":{"type":"string","value":"secret"}}'
        )
        _soffice(en, "pdf", HERE / "encrypted.pdf", locked)
        # A .wps is WPS Office's name for its Word 97-compatible OLE file; LibreOffice writes
        # the same container, so its .doc under that name stands in for one.
        short = work / "wps.html"
        short.write_text(_html(ZH_TITLE, ZH_PARAGRAPHS[:2], None, ""), encoding="utf-8")
        _soffice(short, "doc", work / "wps.doc", "doc:MS Word 97")
        shutil.move(work / "wps.doc", HERE / "article-zh.wps")

        _python_docx(HERE / "article-zh-python-docx.docx")
        subprocess.run(
            [
                "msoffcrypto-tool",
                "-e",
                "-p",
                "secret",
                str(HERE / "article-zh-python-docx.docx"),
                str(HERE / "encrypted.docx"),
            ],
            check=True,
        )

        (HERE / "wordpad-gbk.rtf").write_bytes(
            _wordpad_rtf([ZH_TITLE, *ZH_PARAGRAPHS[:2], "表情 \U0001f600 与符号 \u20ac"])
        )

        text = "\n\n".join([ZH_TITLE, *ZH_PARAGRAPHS]) + "\n"
        (HERE / "article-gb18030.txt").write_bytes(text.replace("\n", "\r\n").encode("gb18030"))
        (HERE / "article-utf8.txt").write_bytes(text.encode("utf-8"))

        secret = work / "稿件.txt"
        secret.write_bytes(text.encode("utf-8"))
        (HERE / "encrypted.zip").unlink(missing_ok=True)
        subprocess.run(
            ["zip", "-q", "-j", "-P", "secret", str(HERE / "encrypted.zip"), str(secret)],
            check=True,
        )


if __name__ == "__main__":
    main()
