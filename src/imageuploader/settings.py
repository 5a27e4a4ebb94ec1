"""Typed, validated configuration built once from the environment (12-factor)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

MIB = 1024 * 1024
RATE_UNITS = ("second", "minute", "hour", "day")
# (unit, requests) as Litestar's RateLimitConfig takes it; None: no limit.
Rate = tuple[str, int] | None
MIN_METRICS_TOKEN = 32
DEFAULT_ADMIN_PASSWORD = "admin"  # noqa: S105 - the documented embedded default
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name under DATA_DIR, for no SECRET_KEY


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def is_redis_url(url: str | None) -> bool:
    """The one test of whether a URL names Redis (plain or TLS)."""
    return bool(url) and str(url).startswith(("redis://", "rediss://"))


@dataclass(frozen=True)
class Settings:
    """Everything the app, the workers and the CLI need to know at start-up."""

    env: str = "embedded"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str = ""
    broker_url: str = "memory://"
    storage_url: str = ""
    s3_buckets: tuple[str, ...] = ()
    s3_public_url: str | None = None
    # How /media and /s/ hand out S3 objects: a redirect to a presigned URL, or
    # the bytes streamed through the app.
    s3_delivery: str = "redirect"
    s3_redirect_window: int = 300
    cache_url: str | None = None
    secret_key: str = field(default="", repr=False)
    admin_username: str = "admin"
    admin_password: str = field(default=DEFAULT_ADMIN_PASSWORD, repr=False)
    max_upload_bytes: int = 25 * MIB
    max_pixels: int = 50_000_000
    upload_min_resolution: tuple[int, int] | None = None
    database_pool_size: int = 10
    worker_threads: int = 2
    reconcile_after_seconds: int = 300
    # Decodes of uploads at once in one process (each holds a decoded picture in
    # memory), and how long an upload may wait for one before a 503.
    decode_concurrency: int = 2
    decode_wait_seconds: int = 10
    log_level: str = "INFO"
    rate_limit_login_per_ip: Rate = ("minute", 30)
    rate_limit_login_per_username: Rate = ("minute", 10)
    rate_limit_uploads_per_user: Rate = ("minute", 120)
    # Bearer token for /metrics; None: open in the embedded default, closed in production.
    metrics_token: str | None = field(default=None, repr=False)
    # Webhooks to private, loopback and link-local addresses (a receiver on this machine).
    webhook_allow_private: bool = False
    # Migrate and seed in the app's start-up. `serve --workers N` does it once in the
    # parent and turns it off in the worker processes, which would otherwise race.
    prepare_database: bool = True

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    # Each backend is decided here, once; everything else asks these properties.

    @property
    def queue_in_process(self) -> bool:
        """`memory://`: the web process runs the workers as its own threads."""
        return not is_redis_url(self.broker_url)

    @property
    def broker_redis_url(self) -> str | None:
        return None if self.queue_in_process else self.broker_url

    @property
    def shared_redis_url(self) -> str | None:
        """Redis for sessions and rate-limit counters (shared by every web process)."""
        return self.cache_url if is_redis_url(self.cache_url) else None

    @property
    def session_backend(self) -> str:
        """`redis`, `memory` (CACHE_URL=memory://) or `file` (under DATA_DIR)."""
        if self.shared_redis_url:
            return "redis"
        return "memory" if self.cache_url == "memory://" else "file"

    @property
    def uses_s3(self) -> bool:
        return not self.storage_url.startswith("file")

    @property
    def media_redirect_window(self) -> int | None:
        """Seconds of one presigned-URL window when media is delivered by redirect,
        None when the app streams the bytes (local storage, or S3_DELIVERY=stream)."""
        if self.uses_s3 and self.s3_delivery == "redirect":
            return self.s3_redirect_window
        return None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every variable; raise ConfigError naming the culprit."""
        env = _choice(environ, "APP_ENV", "embedded", ("embedded", "production"))
        # Absolute: the default storage URL is built from it (file:///abs/path).
        data_dir = Path(environ.get("DATA_DIR") or "data").expanduser().absolute()
        secret_key = environ.get("SECRET_KEY", "")
        admin_password = environ.get("ADMIN_PASSWORD") or DEFAULT_ADMIN_PASSWORD
        if env == "production":
            if len(secret_key) < 32:
                raise ConfigError(
                    "SECRET_KEY: production needs a random secret of at least 32 "
                    'characters (e.g. python -c "import secrets; '
                    'print(secrets.token_urlsafe(48))")'
                )
            if admin_password == DEFAULT_ADMIN_PASSWORD:
                raise ConfigError(
                    "ADMIN_PASSWORD: the default password 'admin' is refused in "
                    "production; set a strong one"
                )
        elif secret_key and len(secret_key) < 32:
            raise ConfigError("SECRET_KEY: must be at least 32 characters")

        database_url = environ.get("DATABASE_URL") or (
            f"sqlite:///{data_dir / 'imageuploader.sqlite'}"
        )
        _check_scheme("DATABASE_URL", database_url, ("sqlite", "postgres", "postgresql"))
        broker_url = environ.get("BROKER_URL") or "memory://"
        _check_scheme("BROKER_URL", broker_url, ("memory", "redis", "rediss"))
        storage_url = environ.get("STORAGE_URL") or f"file://{data_dir / 'media'}"
        _check_scheme("STORAGE_URL", storage_url, ("file", "s3", "http", "https"))
        buckets = tuple(b.strip() for b in environ.get("S3_BUCKETS", "").split(",") if b.strip())
        if not storage_url.startswith("file") and not buckets:
            raise ConfigError("S3_BUCKETS: S3 storage needs at least one bucket name")
        if len(set(buckets)) != len(buckets):
            raise ConfigError("S3_BUCKETS: bucket names must be unique")
        cache_url = environ.get("CACHE_URL") or None
        if cache_url:
            _check_scheme("CACHE_URL", cache_url, ("memory", "redis", "rediss"))
        metrics_token = environ.get("METRICS_TOKEN") or None
        if metrics_token is not None and len(metrics_token) < MIN_METRICS_TOKEN:
            raise ConfigError(f"METRICS_TOKEN: must be at least {MIN_METRICS_TOKEN} characters")
        public_url = environ.get("S3_PUBLIC_URL") or None
        if public_url:
            _check_scheme("S3_PUBLIC_URL", public_url, ("http", "https"))

        return cls(
            env=env,
            host=environ.get("HOST") or "127.0.0.1",
            port=_int(environ, "PORT", 8000, 1, 65535),
            data_dir=data_dir,
            database_url=database_url,
            broker_url=broker_url,
            storage_url=storage_url,
            s3_buckets=buckets,
            s3_public_url=public_url,
            s3_delivery=_choice(environ, "S3_DELIVERY", "redirect", ("redirect", "stream")),
            # A URL lives two windows (at most 7 days for S3): up to a day each.
            s3_redirect_window=_int(environ, "S3_REDIRECT_WINDOW", 300, 10, 86400),
            cache_url=cache_url,
            secret_key=secret_key,
            admin_username=environ.get("ADMIN_USERNAME") or "admin",
            admin_password=admin_password,
            max_upload_bytes=_int(environ, "MAX_UPLOAD_BYTES", 25 * MIB, 1, 2**40),
            max_pixels=_int(environ, "MAX_PIXELS", 50_000_000, 1, 2**40),
            upload_min_resolution=_resolution(environ, "UPLOAD_MIN_RESOLUTION"),
            database_pool_size=_int(environ, "DATABASE_POOL_SIZE", 10, 0, 200),
            worker_threads=_int(environ, "WORKER_THREADS", 2, 0, 64),
            reconcile_after_seconds=_int(environ, "RECONCILE_AFTER_SECONDS", 300, 5, 86400),
            decode_concurrency=_int(environ, "DECODE_CONCURRENCY", _cores(), 1, 256),
            decode_wait_seconds=_int(environ, "DECODE_WAIT_SECONDS", 10, 0, 600),
            log_level=_choice(environ, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            rate_limit_login_per_ip=_rate(environ, "RATE_LIMIT_LOGIN_PER_IP", ("minute", 30)),
            rate_limit_login_per_username=_rate(
                environ, "RATE_LIMIT_LOGIN_PER_USERNAME", ("minute", 10)
            ),
            rate_limit_uploads_per_user=_rate(
                environ, "RATE_LIMIT_UPLOADS_PER_USER", ("minute", 120)
            ),
            metrics_token=metrics_token,
            webhook_allow_private=_flag(environ, "WEBHOOK_ALLOW_PRIVATE"),
        )

    @property
    def image_cache_url(self) -> str | None:
        """The Redis that caches image views, or None for an in-process cache.

        Separate worker processes (a Redis broker) cannot invalidate an
        in-process cache, so without a Redis CACHE_URL the broker's Redis holds
        the cache rather than serving stale statuses."""
        if self.shared_redis_url:
            return self.shared_redis_url
        return self.broker_redis_url

    def with_secret(self) -> Settings:
        """Return settings whose secret key is set, persisting one under DATA_DIR.

        The embedded default has no SECRET_KEY; a generated one kept on disk
        keeps sessions and signed links valid across restarts.
        """
        if self.secret_key:
            return self
        return replace(self, secret_key=_persistent_key(self.data_dir / SECRET_KEY_FILE))


def _persistent_key(path: Path) -> str:
    """The key in `path`, created once: private from its first byte, and the same for
    every process that starts at once.

    The key is written to a private temporary file (O_EXCL, mode 0600) and published
    with a hard link, which fails if the name exists: the file appears whole or not at
    all, and the first process to link wins; the others read its key.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        # FileExistsError: another process published its key first; use that one.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ConfigError(f"{path}: the secret key file is empty; delete it or set SECRET_KEY")
    return key


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = (environ.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _choice(environ: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = environ.get(name) or default
    if value not in allowed:
        raise ConfigError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _check_scheme(name: str, url: str, schemes: tuple[str, ...]) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        raise ConfigError(
            f"{name}: unsupported URL {url!r}; expected a scheme of "
            f"{', '.join(s + '://' for s in schemes)}"
        )


def _rate(environ: Mapping[str, str], name: str, default: Rate) -> Rate:
    """`N/unit` (unit: second, minute, hour or day); `0` or `off` turns the limit off."""
    raw = (environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "off"):
        return None
    count, _, unit = raw.partition("/")
    try:
        requests = int(count)
    except ValueError:
        requests = 0
    if unit not in RATE_UNITS or requests < 1:
        raise ConfigError(
            f"{name}: expected N/unit such as 10/minute (unit: {', '.join(RATE_UNITS)}) "
            f"or off, got {raw!r}"
        )
    return unit, requests


def _resolution(environ: Mapping[str, str], name: str) -> tuple[int, int] | None:
    raw = (environ.get(name) or "").strip().lower()
    if raw in ("", "off", "none", "0"):
        return None
    parts = raw.replace("\u00d7", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"{name}: expected WIDTHxHEIGHT such as 1024x786, got {raw!r}") from None
    if width < 1 or height < 1:
        raise ConfigError(f"{name}: width and height must be positive, got {raw!r}")
    return width, height


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    return len(os.sched_getaffinity(0)) or 1
