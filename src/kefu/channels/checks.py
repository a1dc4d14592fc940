"""What an inbox's channel configuration may hold, checked when an admin saves it.

An adapter that is :class:`Configurable` names two pydantic models: its settings (every key it
reads, with its type and form; an unknown key is refused, so a typo is not silently ignored)
and the form of each secret it reads (checked on the values being set; values already stored
are sealed and were checked when they were set). Rules that span both — WeChat's safe mode needs
an ``encoding_aes_key`` — go in :meth:`Configurable.check_config`, which sees the settings and
the names of the secrets the inbox will hold after the change.

A refusal is one :class:`~kefu.domain.errors.InvalidInput` (``422 validation_error``) whose
details name each field (``["body", "settings", "mode"]``), as FastAPI's own validation does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Set
from typing import Annotated, Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from kefu.domain.errors import InvalidInput


class ChannelSettings(BaseModel):
    """Base of an adapter's settings model: unknown keys refused, values not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ChannelSecrets(BaseModel):
    """Base of an adapter's secrets model: every field optional (a save may set only some)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _api_base(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must have no query, fragment or credentials")
    return value


def _aes_key(value: str) -> str:
    # WeChat's EncodingAESKey: 43 characters of base64 (the '=' pad is implied), 32 bytes.
    try:
        key = base64.b64decode(value + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be 43 characters of base64 (A–Z, a–z, 0–9, + and /)") from None
    if len(value) != 43 or len(key) != 32:
        raise ValueError("must be 43 characters of base64 (A–Z, a–z, 0–9, + and /)")
    return value


#: A provider's API root (a local server in tests, a proxy or a regional endpoint in production).
ApiBase = Annotated[str, StringConstraints(max_length=300), AfterValidator(_api_base)]
#: WeChat's and WeCom's EncodingAESKey.
AesKey = Annotated[str, AfterValidator(_aes_key)]
#: A printable-ASCII credential with no spaces (tokens, app secrets, ids).
Credential = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[!-~]+$")]


@runtime_checkable
class Configurable(Protocol):
    """An adapter whose configuration is checked when it is saved."""

    settings_model: ClassVar[type[ChannelSettings]]
    secrets_model: ClassVar[type[ChannelSecrets]]

    def check_config(self, settings: ChannelSettings, secrets_set: Set[str]) -> None:
        """Rules across settings and secrets; raise :class:`ValueError` naming the field as
        ``FieldProblem``."""
        ...


class FieldProblem(ValueError):
    """A rule across fields broke: ``where`` is ``("settings", key)`` or ``("secrets", key)``."""

    def __init__(self, where: tuple[str, str], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def check_channel_config(
    adapter: object,
    settings: Mapping[str, Any],
    new_secrets: Mapping[str, str | None],
    secrets_set: Set[str],
) -> None:
    """Refuse a configuration ``adapter`` can't work with (422 naming every bad field).

    ``new_secrets`` are the values being set (``None``: removed); ``secrets_set`` the names the
    inbox holds after the change. Adapters that aren't :class:`Configurable` are not checked."""
    if not isinstance(adapter, Configurable):
        return
    problems: list[dict[str, Any]] = []
    parsed: ChannelSettings | None = None
    try:
        parsed = adapter.settings_model.model_validate(dict(settings))
    except ValidationError as exc:
        problems += _fields(exc, "settings")
    given = {k: v for k, v in new_secrets.items() if v is not None}
    try:
        adapter.secrets_model.model_validate(given)
    except ValidationError as exc:
        problems += _fields(exc, "secrets")
    if parsed is not None and not problems:
        try:
            adapter.check_config(parsed, secrets_set)
        except FieldProblem as exc:
            problems.append(
                {"loc": ["body", *exc.where], "type": "value_error", "message": exc.message}
            )
    if problems:
        fields = ", ".join(".".join(p["loc"][1:]) for p in problems)
        raise InvalidInput(
            f"the channel settings are not valid: {fields}",
            code="validation_error",
            details=problems,
        )


def _fields(exc: ValidationError, part: str) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ["body", part, *(str(x) for x in err["loc"])]
        kind = err["type"]
        message = "not a setting of this channel" if kind == "extra_forbidden" else err["msg"]
        message = message.removeprefix("Value error, ")
        out.append({"loc": loc, "type": kind, "message": message})
    return out
