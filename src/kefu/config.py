"""All settings in one place, read from the environment with the prefix ``KEFU_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"  # noqa: S105 - the sentinel that is refused outside dev/demo


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=None, extra="ignore")

    mode: Literal["production", "dev", "demo", "test"] = "production"
    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str = DEFAULT_SECRET
    # Keys the secret key replaced (a JSON list): secrets sealed with them still open, and are
    # sealed again with secret_key (see docs/security.md, "Secrets at rest")
    previous_secret_keys: list[str] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    allowed_origins: list[str] = Field(default_factory=list)
    # Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed
    # (comma-separated IPs or "*"); unset: such headers are ignored.
    forwarded_allow_ips: str | None = None
    log_json: bool = False
    log_level: str = "info"

    # limits
    max_body_bytes: int = 256 * 1024
    max_header_bytes: int = 32 * 1024  # every header line of a request, names and values
    max_ws_frame_bytes: int = 64 * 1024
    ws_rate_per_second: float = 20.0
    ws_rate_burst: int = 60
    # Frames a socket may have queued before it counts as too slow (closed with 4008); a
    # replay is paced by the socket's drain instead, page by page, and a socket whose queue
    # does not drain for ws_drain_seconds during a replay counts as too slow as well.
    ws_queue_size: int = 1_000
    ws_drain_seconds: float = Field(default=30.0, gt=0)
    # permessage-deflate on WebSockets: off by default. Every browser offers it, and a socket
    # that negotiated it keeps a compressor and a decompressor for its lifetime (~40 KB more
    # per idle socket, docs/performance.md); chat frames are small.
    ws_compression: bool = False
    # sign-in attempts per minute per (account, client address); past it that address waits
    # 1 minute, then twice as long at each new burst up to login_hold_max_seconds (strikes are
    # forgotten a day after the first). Per account from every address together: 10 times as
    # many unless login_attempts_per_minute_per_account says otherwise.
    login_attempts_per_minute: int = Field(default=10, ge=1)
    login_attempts_per_minute_per_account: int | None = Field(default=None, ge=1)
    login_hold_max_seconds: int = Field(default=3600, ge=60)
    visitor_sessions_per_minute: int = 60  # new visitor sessions per client address
    # customers' writes, over HTTP and the socket alike: messages sent, and conversations
    # started, per minute per visitor session and per client address
    customer_sends_per_minute: int = Field(default=60, ge=1)
    customer_sends_per_minute_per_ip: int = Field(default=600, ge=1)
    conversation_starts_per_minute: int = Field(default=10, ge=1)
    conversation_starts_per_minute_per_ip: int = Field(default=100, ge=1)

    # attachments (see docs/attachments.md)
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000  # width x height x frames, checked before decoding
    attachment_url_seconds: int = 900  # lifetime of a signed download URL
    uploads_per_minute: int = 30  # per customer or agent
    # uploads that no message carries are removed after this many hours
    unattached_upload_hours: float = 24.0
    verify_per_minute: int = 20  # agent ID checks at /verify per client address
    # The address customers reach kefu at, for entry links and QR codes (e.g.
    # https://chat.example.com); unset: taken from each request.
    public_url: str | None = None

    # realtime / retention
    event_retention_hours: float = 72.0
    replay_page_size: int = 500
    heartbeat_seconds: float = 25.0
    # an agent whose sockets all closed (or whose node died) is marked offline after this
    presence_grace_seconds: float = Field(default=60.0, gt=0)

    # sessions
    session_days: int = 14
    visitor_session_days: int = 90
    # the longest an identity JWT (POST /api/client/v1/sessions, user_jwt) may still be valid
    # when it is presented: its exp at most this far ahead (docs/security.md)
    identity_token_max_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)

    # group commit
    commit_batch_max: int = 256
    # PostgreSQL limits on kefu's own connections (migrations use their own, without them):
    # a transaction left open and idle this long is ended by the server (a node whose event
    # loop stalls mid-transaction must not hold the workspace's counter row for the others),
    # and a statement is cancelled after this long (lock waits included). Both answer 503.
    db_idle_in_transaction_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_seconds: float = Field(default=30.0, gt=0)

    # channels: networks outgoing channel requests (provider APIs, inbound media) may reach
    # although they are private, loopback or link-local (JSON list of CIDRs; empty: none)
    fetch_allow_networks: list[str] = Field(default_factory=list)
    # provider webhooks (/hooks/*): requests per minute per inbox, and per client address
    hook_requests_per_minute: int = Field(default=3000, ge=1)
    hook_requests_per_minute_per_ip: int = Field(default=1200, ge=1)

    # email (kefu mail): the inbound SMTP endpoint (no port: none), IMAP polling, mail size
    mail_smtp_host: str = "127.0.0.1"
    mail_smtp_port: int | None = Field(default=None, ge=0, le=65535)
    mail_poll_seconds: float = Field(default=60.0, gt=0)
    mail_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # system mail (password resets): the SMTP server kefu sends its own mail through, and the
    # From address; no host: kefu sends none (`kefu agent set-password` resets by hand)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str | None = None

    # background work in the same process (one-process installs)
    run_worker: bool = True
    # how often an idle worker looks for due jobs it was not told about: the fallback under
    # the doorbell (a commit that enqueues jobs wakes the workers of every process at once)
    worker_idle_seconds: float = Field(default=1.0, gt=0)

    # the bot's matcher: "tfidf" (default, no model) or "embeddings" (the kefu[embeddings]
    # extra); the embeddings model is "mpnet" (unset: the default) or "minilm", the models the
    # extra installs, or a sentence-transformers name or directory, read from disk only
    bot_backend: Literal["tfidf", "embeddings"] = "tfidf"
    bot_embeddings_model: str | None = None

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.mode == "production" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "KEFU_SECRET_KEY must be set to a random value of at least 32 characters "
                "(only dev, demo and test modes may run with the default)"
            )
        return self

    @property
    def login_account_ceiling(self) -> int:
        return self.login_attempts_per_minute_per_account or 10 * self.login_attempts_per_minute

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kefu.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
