"""Settings: defaults, validation naming the variable, production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from imageuploader.settings import ConfigError, Settings
from imageuploader.storage import LocalStorage, storage_from_url

STRONG = "x" * 40


def test_defaults_are_the_embedded_mode() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    data = Path("data").absolute()  # relative to where it starts, made absolute
    assert s.data_dir == data
    assert s.database_url == f"sqlite:///{data}/imageuploader.sqlite"
    assert s.broker_url == "memory://"
    assert s.storage_url == f"file://{data}/media"
    # The default must be a URL the storage factory accepts (make run uses it).
    storage = storage_from_url(s.storage_url, buckets=(), public_url=None)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (data / "media").resolve()
    assert s.max_upload_bytes == 25 * 1024 * 1024
    assert s.max_pixels == 50_000_000
    assert s.upload_min_resolution is None
    assert not s.production


def test_values_are_parsed() -> None:
    s = Settings.from_env(
        {
            "PORT": "9000",
            "DATA_DIR": "/srv/iu",
            "STORAGE_URL": "s3://key:secret@minio:9000",
            "S3_BUCKETS": "a, b,c",
            "UPLOAD_MIN_RESOLUTION": "1024x786",
            "MAX_PIXELS": "1_000_000",
        }
    )
    assert s.port == 9000
    assert s.database_url == "sqlite:////srv/iu/imageuploader.sqlite"
    assert s.s3_buckets == ("a", "b", "c")
    assert s.upload_min_resolution == (1024, 786)
    assert s.max_pixels == 1_000_000


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "0"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"BROKER_URL": "amqp://x"}, "BROKER_URL"),
        ({"STORAGE_URL": "ftp://x"}, "STORAGE_URL"),
        ({"STORAGE_URL": "s3://k:s@h:9000"}, "S3_BUCKETS"),
        ({"STORAGE_URL": "s3://k:s@h:9000", "S3_BUCKETS": "a,a"}, "S3_BUCKETS"),
        ({"CACHE_URL": "memcached://x"}, "CACHE_URL"),
        ({"S3_PUBLIC_URL": "localhost:9000"}, "S3_PUBLIC_URL"),
        ({"MAX_UPLOAD_BYTES": "-5"}, "MAX_UPLOAD_BYTES"),
        ({"MAX_PIXELS": "lots"}, "MAX_PIXELS"),
        ({"UPLOAD_MIN_RESOLUTION": "1024"}, "UPLOAD_MIN_RESOLUTION"),
        ({"UPLOAD_MIN_RESOLUTION": "0x5"}, "UPLOAD_MIN_RESOLUTION"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"S3_DELIVERY": "proxy"}, "S3_DELIVERY"),
        ({"S3_REDIRECT_WINDOW": "5"}, "S3_REDIRECT_WINDOW"),
        ({"S3_REDIRECT_WINDOW": "90000"}, "S3_REDIRECT_WINDOW"),
        ({"S3_REDIRECT_WINDOW": "soon"}, "S3_REDIRECT_WINDOW"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env(env)
    assert str(excinfo.value).startswith(f"{variable}:")


def test_production_refuses_missing_secret_key() -> None:
    with pytest.raises(ConfigError, match=r"^SECRET_KEY:"):
        Settings.from_env({"APP_ENV": "production", "ADMIN_PASSWORD": "a-strong-one"})


def test_production_refuses_default_admin_password() -> None:
    with pytest.raises(ConfigError, match=r"^ADMIN_PASSWORD:"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": STRONG})


def test_production_accepts_a_real_configuration() -> None:
    s = Settings.from_env(
        {"APP_ENV": "production", "SECRET_KEY": STRONG, "ADMIN_PASSWORD": "correct horse"}
    )
    assert s.production
    assert "correct horse" not in repr(s) and STRONG not in repr(s)


def test_embedded_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings.from_env({"DATA_DIR": str(tmp_path)})
    first = s.with_secret().secret_key
    assert len(first) >= 32
    assert s.with_secret().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_are_immutable() -> None:
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("broker", "cache", "expected"),
    [
        ("memory://", None, None),
        ("memory://", "memory://", None),  # None: an in-process cache
        ("redis://r:6379/0", None, "redis://r:6379/0"),
        ("redis://r:6379/0", "memory://", "redis://r:6379/0"),
        ("redis://r:6379/0", "redis://c:6379/1", "redis://c:6379/1"),
    ],
)
def test_image_cache_is_shared_with_separate_workers(broker, cache, expected) -> None:
    env = {"BROKER_URL": broker, **({"CACHE_URL": cache} if cache else {})}
    assert Settings.from_env(env).image_cache_url == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, False), ("", False), ("false", False), ("0", False), ("true", True), ("YES", True)],
)
def test_webhook_allow_private(raw: str | None, expected: bool) -> None:
    env = {} if raw is None else {"WEBHOOK_ALLOW_PRIVATE": raw}
    assert Settings.from_env(env).webhook_allow_private is expected


def test_webhook_allow_private_refuses_other_words() -> None:
    with pytest.raises(ConfigError, match=r"^WEBHOOK_ALLOW_PRIVATE: expected true or false"):
        Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": "maybe"})


S3_ENV = {"STORAGE_URL": "http://k:s@127.0.0.1:8333", "S3_BUCKETS": "a"}


@pytest.mark.parametrize(
    ("env", "window"),
    [
        ({}, None),  # local files are always streamed
        ({"S3_DELIVERY": "redirect"}, None),
        (S3_ENV, 300),  # S3 redirects by default
        ({**S3_ENV, "S3_REDIRECT_WINDOW": "60"}, 60),
        ({**S3_ENV, "S3_DELIVERY": "stream"}, None),
    ],
)
def test_media_redirect_window(env: dict[str, str], window: int | None) -> None:
    assert Settings.from_env(env).media_redirect_window == window
