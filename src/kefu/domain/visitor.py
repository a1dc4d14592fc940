"""What a widget visitor's browser says about them: page, referrer, language, time zone, browser
and system. All of it is the customer's claim (shown to agents, never trusted), bounded here,
and kept only as far as the inbox's ``collect_context`` setting allows:

- ``off``: nothing;
- ``basic``: locale and time zone;
- ``full``: also the current page (URL and title), the referrer, and browser and system (read
  from the ``User-Agent`` header by :func:`parse_user_agent`, a compact parser of the few
  families worth naming; the raw header is not kept).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from kefu.domain.languages import LanguageTagError, canonical
from kefu.domain.text import LANGUAGE_RE, LINE_RE, ONE_LINE

CollectContext = Literal["off", "basic", "full"]
DEFAULT_COLLECT: CollectContext = "basic"
MAX_URL = 2048
MAX_TITLE = 300
MAX_TIME_ZONE = 64
MAX_USER_AGENT = 512
BASIC_FIELDS = frozenset({"locale", "time_zone"})
FULL_FIELDS = BASIC_FIELDS | {"page_url", "page_title", "referrer", "browser", "os"}


def _web_url(value: str) -> str:
    """An absolute ``http(s)`` URL without credentials (it is shown to agents as a link)."""
    if any(ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ValueError("a URL has no spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL without user name or password")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone such as Asia/Shanghai") from None
    return value


def _locale(value: str) -> str:
    try:
        return canonical(value)
    except LanguageTagError as e:
        raise ValueError(str(e)) from None


WebUrl = Annotated[
    str,
    StringConstraints(max_length=MAX_URL, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"),
    AfterValidator(_web_url),
]
PageTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TITLE, pattern=LINE_RE), ONE_LINE
]
TimeZone = Annotated[
    str,
    StringConstraints(max_length=MAX_TIME_ZONE, pattern=r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$"),
    AfterValidator(_time_zone),
]
Locale = Annotated[
    str, StringConstraints(max_length=16, pattern=LANGUAGE_RE), AfterValidator(_locale)
]


class VisitorContextIn(BaseModel):
    """What the widget reports (each field optional; what the inbox does not collect is
    dropped, not refused)."""

    model_config = ConfigDict(extra="forbid")

    page_url: WebUrl | None = None
    page_title: PageTitle | None = None
    referrer: WebUrl | None = None
    locale: Locale | None = None
    time_zone: TimeZone | None = None


class VisitorContext(BaseModel):
    """A contact's last reported context, as agents see it (empty fields absent)."""

    model_config = ConfigDict(extra="forbid")

    page_url: str | None = None
    page_title: str | None = None
    referrer: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    browser: str | None = None
    os: str | None = None
    updated_at: datetime | None = None


def allowed_fields(level: str) -> frozenset[str]:
    return FULL_FIELDS if level == "full" else BASIC_FIELDS if level == "basic" else frozenset()


def admit(reported: VisitorContextIn, level: str, user_agent: str | None) -> dict[str, Any]:
    """The fields the inbox's ``level`` lets kefu keep: reported values, and browser and system
    read from ``user_agent`` (``full`` only). Unset and empty fields are left out."""
    keep = allowed_fields(level)
    fields: dict[str, Any] = {
        k: v for k, v in reported.model_dump(exclude_none=True).items() if k in keep and v != ""
    }
    if "browser" in keep and user_agent:
        browser, system = parse_user_agent(user_agent[:MAX_USER_AGENT])
        fields.update({k: v for k, v in (("browser", browser), ("os", system)) if v})
    return fields


# Browser families, most specific first (Edge and Opera also say Chrome; Chrome says Safari).
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx))
    for name, rx in (
        ("WeChat", r"MicroMessenger/(\d+)"),
        ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
        ("Opera", r"(?:OPR|Opera)/(\d+)"),
        ("Samsung Internet", r"SamsungBrowser/(\d+)"),
        ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
        ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
        ("Safari", r"Version/(\d+)(?:\.\d+)*(?: Mobile/\S+)? Safari/"),
    )
)
_WINDOWS = {"10.0": "10/11", "6.3": "8.1", "6.2": "8", "6.1": "7"}


def _system(ua: str) -> str | None:
    if m := re.search(r"Windows NT (\d+\.\d+)", ua):
        return f"Windows {_WINDOWS.get(m.group(1), m.group(1))}"
    if m := re.search(r"(?:iPhone|iPad|iPod).*? OS (\d+)[_.](\d+)", ua):
        return f"iOS {m.group(1)}.{m.group(2)}"
    if m := re.search(r"Android (\d+(?:\.\d+)?)", ua):
        return f"Android {m.group(1)}"
    if m := re.search(r"Mac OS X (\d+)[_.](\d+)", ua):
        return f"macOS {m.group(1)}.{m.group(2)}"
    if "CrOS" in ua:
        return "ChromeOS"
    if "Linux" in ua:
        return "Linux"
    return None


def parse_user_agent(ua: str) -> tuple[str | None, str | None]:
    """``("Chrome 120", "Windows 10/11")`` from a ``User-Agent`` header; None where unknown."""
    browser = next((f"{name} {m.group(1)}" for name, rx in _BROWSERS if (m := rx.search(ua))), None)
    return browser, _system(ua)
