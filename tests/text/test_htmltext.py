"""Tests for intake.text.htmltext: HTML mail bodies as plain text."""

from __future__ import annotations

import random

from intake.text.htmltext import html_to_text


def test_hidden_parts_are_dropped() -> None:
    html = (
        "<html><head><title>Title</title><style>p {color: red}</style></head>"
        "<body><script>alert('x')</script><p>Visible</p></body></html>"
    )
    assert html_to_text(html) == "Visible"


def test_unclosed_head_does_not_swallow_the_body() -> None:
    assert html_to_text("<html><head><title>x</title><body><p>Body text") == "Body text"


def test_paragraphs_blank_lines_and_breaks() -> None:
    html = "<p>First   paragraph\n continues</p><p>Second<br>line two<br><br>after gap</p>"
    assert html_to_text(html) == "First paragraph continues\n\nSecond\nline two\n\nafter gap"


def test_qq_mail_style_divs() -> None:
    # QQ Mail and Foxmail write one <div> per line and <div><br></div> for an empty line.
    html = (
        '<meta charset="gb18030"><div>编辑老师您好：</div><div><br></div>'
        "<div>　　附件是我的投稿《故乡的河》，请查收。</div><div><br></div>"
        '<div><span style="font-size: 12px">张三</span></div>'
    )
    assert html_to_text(html) == (
        "编辑老师您好：\n\n　　附件是我的投稿《故乡的河》，请查收。\n\n张三"
    )


def test_lists() -> None:
    html = "<p>Intro</p><ul><li>one</li><li>two<ol><li>two-a</li></ol></li></ul><p>End</p>"
    assert html_to_text(html) == "Intro\n\n- one\n- two\n  - two-a\n\nEnd"


def test_links_keep_text_and_differing_url() -> None:
    html = (
        '<a href="https://example.com/">example.com</a> '
        '<a href="https://example.com/a?b=1&amp;c=2">the article</a> '
        '<a href="mailto:ed@example.com">ed@example.com</a> <a href="#top">top</a>'
    )
    assert html_to_text(html) == (
        "example.com the article (https://example.com/a?b=1&c=2) ed@example.com top"
    )


def test_entities_and_no_markup_left() -> None:
    html = "<p>&lt;b&gt; is &quot;bold&quot; &amp; &#20013;&#x6587; &copy;&nbsp;2024</p>"
    assert html_to_text(html) == '<b> is "bold" & 中文 © 2024'


def test_pre_keeps_its_whitespace() -> None:
    assert html_to_text("<pre>a  b\n   c</pre>") == "a  b\n   c"


def test_table_cells_are_separated() -> None:
    html = "<table><tr><td>姓名</td><td>张三</td></tr><tr><td>电话</td><td>123</td></tr></table>"
    assert html_to_text(html) == "姓名 张三\n电话 123"


def test_malformed_html_never_raises() -> None:
    pieces = ["<", ">", "</", "<!", "<!--", "-->", "<![CDATA[", "]]>", "&", "&#", "&#x", "x"]
    pieces += ['"', "=", "<a href=", "<script>", "</script>", "<br", "<p", "<li", "</ul", "<head"]
    pieces += ["<pre>", " ", "\n", "中", "&nbsp;", "<!DOCTYPE", "<![if", "<![endif]>", "<?xml"]
    rng = random.Random(2024)
    for _ in range(2000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        assert isinstance(html_to_text(html), str)


def test_stray_end_tags_and_empty_input() -> None:
    assert html_to_text("") == ""
    assert html_to_text("</a></li></ul></script>text</p>") == "text"


def test_nested_links_keep_each_differing_url() -> None:
    # Read back as before: each link's text, then its address when the text differs.
    html = (
        '<a href="https://a.example/">outer <a href="https://b.example/">b.example</a>'
        ' <a href="https://c.example/x">inner</a></a>'
    )
    assert html_to_text(html) == (
        "outer b.example inner (https://c.example/x) (https://a.example/)"
    )
    assert html_to_text('<a href="https://x.example/"><img src="p.png"></a>') == ""
    assert html_to_text('<a href="https://x.example/"><br><br></a>end') == "end"


def test_a_long_link_text_is_never_the_address() -> None:
    label = ("a long description of the page " * 10).strip()
    html = f'<a href="https://x.example/">{label}</a>'
    assert html_to_text(html) == f"{label} (https://x.example/)"


def test_hidden_elements_close_as_before() -> None:
    # A stray end tag closes nothing; an end tag closes what was opened inside its element.
    assert html_to_text("<noscript>x</object>y</noscript>shown") == "shown"
    assert html_to_text("<noscript><object>x</noscript>shown</object>") == "shown"
    assert html_to_text("<object><object>x</object>still hidden</object>shown") == "shown"


def test_deep_lists_stop_indenting() -> None:
    html = "<ul><li>x" * 30
    lines = html_to_text(html).split("\n")
    assert len(lines) == 30
    assert max(len(line) - len(line.lstrip(" ")) for line in lines) == 20  # ten levels


def test_hostile_shapes_give_text() -> None:
    # Sizes that took seconds to minutes when closing a link re-read all the text before it.
    links = "".join(f'<a href="https://e.example/{i}">x ' for i in range(3000)) + "</a>" * 3000
    text = html_to_text(links)
    assert text.count("(https://e.example/") == 3000
    assert html_to_text("<noscript>" * 5000 + "</object>" * 5000 + "x") == ""
