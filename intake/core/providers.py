"""What intake knows about the mail providers its users have: one row per ``provider`` value.

A ``[[mailboxes]]`` table with ``provider = "qq"`` gets its host, port, security, Sent folder,
authentication and SMTP side from the row below; every key the table sets itself wins. The
quirks are the ones real clients trip over: NetEase's "Unsafe Login" without IMAP ``ID``, QQ's
authorization code (授权码) and "Sent Messages", SMTP servers that refuse a From other than the
login account, Microsoft's end of passwords over IMAP and SMTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProviderName = Literal[
    "custom", "qq", "exmail", "163", "126", "yeah", "aliyun", "sina", "outlook", "gmail"
]
Security = Literal["tls", "starttls", "none"]
AuthMethod = Literal["password", "oauth2"]


@dataclass(frozen=True, slots=True)
class OAuthPreset:
    """Where an OAuth2 provider issues tokens and what intake asks for."""

    token_url: str
    scope: str
    device_url: str = ""  # the device-code flow (RFC 8628), when the provider allows it
    authorize_url: str = ""  # the authorization-code flow with a loopback redirect (RFC 8252)


@dataclass(frozen=True, slots=True)
class Provider:
    """One mail provider's servers and habits."""

    label: str  # for messages: "QQ Mail"
    imap_host: str = ""
    imap_port: int = 993
    imap_security: Security = "tls"
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_security: Security = "tls"
    auth: AuthMethod = "password"
    #: The Sent folder's usual names, tried when the server marks none with \Sent.
    sent_names: tuple[str, ...] = ()
    #: The SMTP server refuses a From address other than the account it logged in as.
    from_must_be_login: bool = False
    #: What the password is called there, for error messages ("" for an ordinary password).
    password_hint: str = ""
    oauth: OAuthPreset | None = None


_NETEASE_HINT = (
    "NetEase needs the authorization code (授权码) from Settings → POP3/SMTP/IMAP, "
    "not the web password"
)
MICROSOFT = OAuthPreset(
    token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
    device_url="https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
    authorize_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    scope=(
        "https://outlook.office.com/IMAP.AccessAsUser.All "
        "https://outlook.office.com/SMTP.Send offline_access"
    ),
)
# Google's device flow refuses Gmail's scope, so `intake auth login` uses the
# authorization-code flow with a loopback redirect for it.
GOOGLE = OAuthPreset(
    token_url="https://oauth2.googleapis.com/token",
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    scope="https://mail.google.com/",
)

PROVIDERS: dict[str, Provider] = {
    "custom": Provider(label="the mail server", sent_names=("Sent",)),
    "qq": Provider(
        label="QQ Mail",
        imap_host="imap.qq.com",
        smtp_host="smtp.qq.com",
        sent_names=("Sent Messages",),
        from_must_be_login=True,
        password_hint=(
            "QQ Mail needs the authorization code (授权码) from Settings → Account → "
            "POP3/IMAP/SMTP service, not the QQ password"
        ),
    ),
    "exmail": Provider(
        label="Tencent Exmail",
        imap_host="imap.exmail.qq.com",
        smtp_host="smtp.exmail.qq.com",
        sent_names=("Sent Messages",),
        password_hint=(
            "with secure login on, Tencent Exmail needs a client-specific password "
            "(客户端专用密码) from Settings → Account security"
        ),
    ),
    "163": Provider(
        label="NetEase 163 Mail",
        imap_host="imap.163.com",
        smtp_host="smtp.163.com",
        sent_names=("已发送",),
        from_must_be_login=True,
        password_hint=_NETEASE_HINT,
    ),
    "126": Provider(
        label="NetEase 126 Mail",
        imap_host="imap.126.com",
        smtp_host="smtp.126.com",
        sent_names=("已发送",),
        from_must_be_login=True,
        password_hint=_NETEASE_HINT,
    ),
    "yeah": Provider(
        label="NetEase yeah.net",
        imap_host="imap.yeah.net",
        smtp_host="smtp.yeah.net",
        sent_names=("已发送",),
        from_must_be_login=True,
        password_hint=_NETEASE_HINT,
    ),
    "aliyun": Provider(
        label="Aliyun Mail",
        imap_host="imap.aliyun.com",
        smtp_host="smtp.aliyun.com",
        sent_names=("已发送",),
        from_must_be_login=True,
    ),
    "sina": Provider(
        label="Sina Mail",
        imap_host="imap.sina.com",
        smtp_host="smtp.sina.com",
        sent_names=("已发送",),
        from_must_be_login=True,
        password_hint="Sina Mail needs the authorization code (授权码) from Settings → Client",
    ),
    "outlook": Provider(
        label="Outlook / Microsoft 365",
        imap_host="outlook.office365.com",
        smtp_host="smtp.office365.com",
        smtp_port=587,
        smtp_security="starttls",
        auth="oauth2",
        sent_names=("Sent Items",),
        oauth=MICROSOFT,
    ),
    "gmail": Provider(
        label="Gmail",
        imap_host="imap.gmail.com",
        smtp_host="smtp.gmail.com",
        auth="oauth2",
        sent_names=("[Gmail]/Sent Mail",),
        password_hint='with auth = "password", Gmail needs an app password',
        oauth=GOOGLE,
    ),
}

#: Every name a Sent folder is known by, for a server that marks none with \Sent.
COMMON_SENT_NAMES = (
    "Sent",
    "Sent Messages",
    "Sent Items",
    "Sent Mail",
    "已发送",
    "已发送邮件",
    "[Gmail]/Sent Mail",
    "INBOX.Sent",
    "INBOX/Sent",
)


def provider(name: str) -> Provider:
    """The row for ``name`` (validated by the configuration loader)."""
    return PROVIDERS[name]
