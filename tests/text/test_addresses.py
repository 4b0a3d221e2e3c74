"""intake.text.addresses: one comparable form for every way of writing one mailbox."""

from __future__ import annotations

import pytest

from intake.core.errors import IntakeError
from intake.text.addresses import (
    AddressError,
    normalise,
    normalised_or_empty,
    rate_key,
    same,
)

SAME_MAILBOX = [
    # (as written, normalised, rate key)
    ("victim@example.com", "victim@example.com", "victim@example.com"),
    ("Victim@Example.COM", "victim@example.com", "victim@example.com"),
    ("VICTIM@EXAMPLE.COM", "victim@example.com", "victim@example.com"),
    ("victim@ｖ.example", "victim@v.example", "victim@v.example"),
    ("ｖｉｃｔｉｍ＠ｖ．ｅｘａｍｐｌｅ", "victim@v.example", "victim@v.example"),
    ("ＶＩＣＴＩＭ@EXAMPLE.COM", "victim@example.com", "victim@example.com"),
    ("victim@v。example", "victim@v.example", "victim@v.example"),
    ("victim@v．example", "victim@v.example", "victim@v.example"),
    ("victim@v｡example", "victim@v.example", "victim@v.example"),
    ("tougao@ｎｓｎｅｗｓ．ｅｘａｍｐｌｅ", "tougao@nsnews.example", "tougao@nsnews.example"),
    ("victim@example.com.", "victim@example.com", "victim@example.com"),
    ("victim@example.com。", "victim@example.com", "victim@example.com"),
    ("  victim@example.com  ", "victim@example.com", "victim@example.com"),
    ("\tvictim@example.com\n", "victim@example.com", "victim@example.com"),
    ("\u3000victim@example.com\u3000", "victim@example.com", "victim@example.com"),
    ("<victim@example.com>", "victim@example.com", "victim@example.com"),
    (" < victim@example.com > ", "victim@example.com", "victim@example.com"),
    ('"victim"@example.com', "victim@example.com", "victim@example.com"),
    ('"Victim.Name"@example.com', "victim.name@example.com", "victim.name@example.com"),
    ('"john doe"@example.com', '"john doe"@example.com', '"john doe"@example.com'),
    ('"a\\"b"@example.com', '"a\\"b"@example.com', '"a\\"b"@example.com'),
    ("张三@例子.中国", "张三@xn--fsqu00a.xn--fiqs8s", "张三@xn--fsqu00a.xn--fiqs8s"),
    ("张三@例子。中国", "张三@xn--fsqu00a.xn--fiqs8s", "张三@xn--fsqu00a.xn--fiqs8s"),
    ("张三@XN--FSQU00A.XN--FIQS8S", "张三@xn--fsqu00a.xn--fiqs8s", "张三@xn--fsqu00a.xn--fiqs8s"),
    ("zhangsan@例子.中国", "zhangsan@xn--fsqu00a.xn--fiqs8s", "zhangsan@xn--fsqu00a.xn--fiqs8s"),
    ("user@bücher.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ("user@BÜCHER.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ("victim+1@example.com", "victim+1@example.com", "victim@example.com"),
    ("victim+tag+more@example.com", "victim+tag+more@example.com", "victim@example.com"),
    ("Victim+News@Example.com", "victim+news@example.com", "victim@example.com"),
    ("+only@example.com", "+only@example.com", "+only@example.com"),
    ("v.i.c.t.i.m@gmail.com", "v.i.c.t.i.m@gmail.com", "victim@gmail.com"),
    ("Victim+x@GoogleMail.com", "victim+x@googlemail.com", "victim@gmail.com"),
    ("v.ictim@example.com", "v.ictim@example.com", "v.ictim@example.com"),
    ("1234567890@qq.com", "1234567890@qq.com", "1234567890@qq.com"),
    ("wang-wu_2019@163.com", "wang-wu_2019@163.com", "wang-wu_2019@163.com"),
    ("o'brien@example.ie", "o'brien@example.ie", "o'brien@example.ie"),
    ("x@[192.0.2.1]", "x@[192.0.2.1]", "x@[192.0.2.1]"),
    ("x@[IPv6:2001:db8::1]", "x@[ipv6:2001:db8::1]", "x@[ipv6:2001:db8::1]"),
    ("postmaster@localhost", "postmaster@localhost", "postmaster@localhost"),
]  # fmt: skip


@pytest.mark.parametrize(("written", "normal", "key"), SAME_MAILBOX)
def test_one_form_per_mailbox(written: str, normal: str, key: str) -> None:
    assert normalise(written) == normal
    assert normalise(normal) == normal  # idempotent
    assert rate_key(written) == key
    assert rate_key(key) == key
    assert same(written, normal)


NOT_ADDRESSES = [
    ("", "empty"),
    ("   ", "empty"),
    ("<>", "empty"),
    ("victim", "no @"),
    ("victim.example.com", "no @"),
    ("@example.com", "local part"),
    ("victim@", "no domain"),
    ("victim@.", "no domain"),
    ("victim@example..com", "empty label"),
    ("victim@.example.com", "empty label"),
    ("a..b@example.com", "local part"),
    (".victim@example.com", "local part"),
    ("victim.@example.com", "local part"),
    ("a@b@example.com", "local part"),
    ("vic tim@example.com", "SPACE"),
    ("victim @example.com", "SPACE"),
    ("Victim <victim@example.com>", "SPACE"),
    ("Victim<victim@example.com>", "local part"),
    ("victim@example.com, other@example.com", "SPACE"),
    ("victim\x00@example.com", "'\\x00'"),
    ("vic\u202etim@example.com", "RIGHT-TO-LEFT OVERRIDE"),
    ("vic\u200btim@example.com", "ZERO WIDTH SPACE"),
    ("victim\r\nBcc: x@example.com", "'\\r'"),
    ("victim@exa mple.com", "invalid domain label"),
    ("victim@-example.com", "invalid domain label"),
    ("victim@example-.com", "invalid domain label"),
    ("victim@exa!mple.com", "invalid domain label"),
    ("victim@xn--zz.example", "invalid IDN label"),
    ("victim@[300.1", "address literal"),
    ("victim@" + "a" * 64 + ".com", "invalid domain label"),
    ("a" * 65 + "@example.com", "longer than 64"),
    ("victim@" + ".".join(["a" * 60] * 5), "longer than 253"),
    ('"unclosed@example.com', "local part"),
]


@pytest.mark.parametrize(("garbage", "why"), NOT_ADDRESSES)
def test_garbage_is_a_clear_error_or_empty(garbage: str, why: str) -> None:
    with pytest.raises(AddressError) as raised:
        normalise(garbage)
    assert why in str(raised.value)
    assert isinstance(raised.value, IntakeError) and isinstance(raised.value, ValueError)
    assert normalised_or_empty(garbage) == ""
    assert not same(garbage, garbage)  # garbage matches nothing, itself included
    with pytest.raises(AddressError):
        rate_key(garbage)


def test_different_mailboxes_stay_different() -> None:
    assert not same("victim@example.com", "victim@example.org")
    assert not same("victim@example.com", "victim2@example.com")
    assert not same("victim+1@example.com", "victim@example.com")  # only rate_key folds tags
    assert not same("v.ictim@example.com", "victim@example.com")  # dots only at Gmail, only keys
    assert rate_key("v.ictim@example.com") != rate_key("victim@example.com")
