"""Settings: defaults, the env prefix, and refusing a default secret in production."""

from __future__ import annotations

import pytest

from kefu.config import Settings


def test_default_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_SECRET_KEY", raising=False)
    monkeypatch.setenv("KEFU_MODE", "production")
    with pytest.raises(ValueError, match="KEFU_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("KEFU_SECRET_KEY", "short")
    with pytest.raises(ValueError, match="KEFU_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("KEFU_SECRET_KEY", "k" * 40)
    assert Settings().secret_key == "k" * 40


def test_dev_and_demo_run_with_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_SECRET_KEY", raising=False)
    for mode in ("dev", "demo", "test"):
        monkeypatch.setenv("KEFU_MODE", mode)
        assert Settings().mode == mode


def test_env_prefix_and_database_default(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("KEFU_MODE", "dev")
    monkeypatch.setenv("KEFU_PORT", "9123")
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KEFU_DATABASE_URL", raising=False)
    monkeypatch.setenv("KEFU_ALLOWED_ORIGINS", '["https://a.example"]')
    s = Settings()
    assert s.port == 9123
    assert s.allowed_origins == ["https://a.example"]
    assert s.effective_database_url == f"sqlite+aiosqlite:///{tmp_path}/kefu.db"
    assert s.redis_url is None
