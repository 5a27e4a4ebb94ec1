"""Shared fixtures: settings, a real database per backend, app and clients."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bench.seaweedfs import SeaweedFS, weed_binary
from imageuploader import db
from imageuploader.accounts.tables import User
from imageuploader.app import create_app, rebind
from imageuploader.clock import Clock, utcnow
from imageuploader.container import build_services
from imageuploader.settings import SECRET_KEY_FILE, Settings

BASE_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BASE_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Under pytest-xdist (`make check`) each worker process gets its own database
# and Redis database number, so parallel tests never empty each other's tables.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _per_worker_urls() -> tuple[str, str]:
    if not XDIST_WORKER:
        return BASE_POSTGRES_URL, BASE_REDIS_URL
    number = int(XDIST_WORKER.removeprefix("gw"))
    pg = urlsplit(BASE_POSTGRES_URL)
    postgres = pg._replace(path=f"{pg.path}_{XDIST_WORKER}").geturl()
    rd = urlsplit(BASE_REDIS_URL)
    redis_db = int(rd.path.lstrip("/") or 0) - 1 - number
    if redis_db < 0:
        raise RuntimeError(f"too many xdist workers for Redis databases below {rd.path}")
    return postgres, rd._replace(path=f"/{redis_db}").geturl()


POSTGRES_URL, REDIS_URL = _per_worker_urls()


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


_created: set[str] = set()


def _ensure_database(url: str) -> None:
    """Create an xdist worker's own database (in the server of TEST_POSTGRES_URL) once."""
    if url == BASE_POSTGRES_URL or url in _created:
        return

    async def create() -> None:
        connection = await asyncpg.connect(BASE_POSTGRES_URL)
        try:
            name = urlsplit(url).path.lstrip("/")
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
            # A throwaway database: commits need not wait for the disk (2-3 ms each).
            await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # callers may run inside a loop
        pool.submit(asyncio.run, create()).result()
    _created.add(url)


def require_service(url: str, what: str) -> None:
    """In CI a missing service is a failure, never a skip."""
    if _reachable(url):
        if url == POSTGRES_URL:
            _ensure_database(url)
        return
    message = f"{what} is not reachable at {url}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


# Suites that start servers, browsers or processes, so that `make check` can leave
# them out (`-m "not slow_lane"` keeps the rest). A test belongs to one by its
# folder, or by its own mark where it sits beside the fast tests of its subject
# (a separate worker process in tests/images is `e2e`).
SLOW_SUITES = ("browser", "load", "faults", "fuzz", "e2e")


FAST_LANE = "not slow_lane"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The fast lane does not even import the slow suites' folders (their browser
    driver and fuzzer cost seconds in every xdist worker)."""
    if config.getoption("markexpr") != FAST_LANE:
        return None
    root = Path(__file__).parent
    if collection_path.parent == root and collection_path.name in SLOW_SUITES:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        suite = item.path.relative_to(root).parts[0]
        if suite in SLOW_SUITES:
            item.add_marker(getattr(pytest.mark, suite))
        if any(item.get_closest_marker(name) for name in SLOW_SUITES):
            item.add_marker(pytest.mark.slow_lane)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    # 600k PBKDF2 rounds per login would make the suite crawl; the algorithm
    # and the code path stay the same.
    User._pbkdf2_iteration_count = 1_000


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each database-facing test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    require_service(POSTGRES_URL, "PostgreSQL")
    return POSTGRES_URL


def start_seaweedfs(root: Path | None) -> SeaweedFS:
    """SeaweedFS on free ports under `root` (None: a temporary directory it deletes on
    close); in CI a missing `weed` fails, never skips."""
    try:
        weed_binary()
    except FileNotFoundError as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    return SeaweedFS.launch(root)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One S3 server for the whole session that checks every signature, as MinIO and
    AWS do. Tests keep apart through bucket names of their own."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.close(kill=True)  # its data is thrown away: no need to wait for a clean stop


@pytest.fixture
def own_seaweedfs(tmp_path: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS for one test, which it may stop, kill and start again: `start()`
    brings it back on the same ports with the same data directory."""
    server = start_seaweedfs(tmp_path / "seaweedfs")
    try:
        yield server
    finally:
        server.close(kill=True)  # its data dies with the test


@pytest.fixture
def postgres_url() -> str:
    """PostgreSQL alone, for tests where several processes share the database."""
    require_service(POSTGRES_URL, "PostgreSQL")
    return POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    require_service(REDIS_URL, "Redis")
    return REDIS_URL


@pytest.fixture(scope="session")
def _data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app-data")


@pytest.fixture
def data_dir(_data_root: Path) -> Path:
    """DATA_DIR for this test: one directory per process, emptied before each test but
    for its secret key, so that tests with the same settings can share an app (app_for)."""
    for entry in _data_root.iterdir():
        if entry.name == SECRET_KEY_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return _data_root


@pytest.fixture
def make_settings(data_dir: Path) -> Callable[..., Settings]:
    def make(**env: str) -> Settings:
        # A small pool: it serves the app's own loop; the test's queries and the
        # in-process workers, on other loops, open connections of their own.
        base = {
            "DATA_DIR": str(data_dir),
            "CACHE_URL": "memory://",
            "DATABASE_POOL_SIZE": "4",
        }
        return Settings.from_env({**base, **env})

    return make


APP_TABLES = [
    "rendition_variants",
    "pending_deletions",
    "webhook_attempts",
    "webhook_messages",
    "webhooks",
    "renditions",
    "images",
    "api_tokens",
    "plan_sizes",
    "users",
    "plans",
    "sizes",
]
_migrated: set[str] = set()
# Children first; our own names, so the string building is safe.
_DELETE_ALL = "".join(f"DELETE FROM {table};" for table in APP_TABLES)  # noqa: S608
# Ids restart at 1, as TRUNCATE ... RESTART IDENTITY would have them.
_RESTART_IDS = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n"
    " ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'"
    " AND c.relname = ANY($1::text[])"
)


async def _reset_database(database_url: str) -> None:
    """Start every test from empty tables; the app's lifespan migrates and seeds.

    The first test on a database drops everything, so the migrations run for
    real once per session and backend; later tests only empty the tables.
    """
    engine = db.engine_for(database_url)
    db.use_engine(engine)
    postgres = database_url.startswith("postgres")
    if database_url not in _migrated:
        _migrated.add(database_url)
        await _drop_everything(engine, database_url)
        return
    try:
        await _empty_tables(engine, postgres)
    except (asyncpg.UndefinedTableError, sqlite3.OperationalError):
        # The tests here so far never started the app, so nothing was migrated
        # after the first drop: start afresh, and let this test's lifespan migrate.
        await _drop_everything(engine, database_url)


async def _drop_everything(engine: Any, database_url: str) -> None:
    if database_url.startswith("postgres"):
        await engine.run_ddl("DROP SCHEMA IF EXISTS public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")
    else:
        Path(urlsplit(database_url).path).unlink(missing_ok=True)  # noqa: ASYNC240


async def _empty_tables(engine: Any, postgres: bool) -> None:
    if postgres:
        # DELETE, not TRUNCATE: on tables this small TRUNCATE's new files and their
        # fsyncs cost ~200 ms a test.
        connection = await engine.get_new_connection()
        try:
            await connection.execute(_DELETE_ALL)
            await connection.execute(_RESTART_IDS, [f"{table}_id_seq" for table in APP_TABLES])
        finally:
            await connection.close()
    else:
        for table in APP_TABLES:
            await engine.run_ddl(f"DELETE FROM {table}")  # noqa: S608 - our own names


@pytest.fixture
async def settings(database_url: str, make_settings: Callable[..., Settings]) -> Settings:
    await _reset_database(database_url)
    return make_settings(DATABASE_URL=database_url)


# Built apps by their settings (with the secret key). Building one costs about 0.15 s
# of CPU, more than most tests take; each test gets fresh services in it instead.
_apps: dict[Settings, Litestar] = {}
_KEPT_APPS = 32


def app_for(settings: Settings, *, clock: Clock = utcnow) -> Litestar:
    """The app `create_app(settings, clock=clock)` would build, with services of its own
    (database pools, caches, broker, stores: nothing is shared with an earlier test),
    reusing the routes and middleware an earlier test with the same settings built."""
    services = build_services(settings, clock=clock)
    app = _apps.pop(services.settings, None)
    if app is None:
        app = create_app(settings, services=services)
    else:
        rebind(app, services)
    _apps[services.settings] = app  # the most recently used last
    while len(_apps) > _KEPT_APPS:
        del _apps[next(iter(_apps))]
    return app


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return app_for(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as c:
        # Redirects are part of what we assert (login, logout, next=).
        c.follow_redirects = False
        yield c


async def bearer(client: AsyncTestClient, username: str, password: str) -> dict[str, str]:
    """Authorization headers for a user, through the real token endpoint."""
    r = await client.post("/api/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
async def admin_headers(client: AsyncTestClient) -> dict[str, str]:
    return await bearer(client, "admin", "admin")


@pytest.fixture
def make_plan(client: AsyncTestClient, admin_headers: dict[str, str]) -> Callable[..., Any]:
    """Create a plan through the admin API and return its name. A test that reads one
    or two renditions asks for a plan with just those: every other size and format is
    encoding work (AVIF above all) that nobody looks at."""

    async def make(
        name: str,
        sizes: list[str],
        *,
        formats: tuple[str, ...] = ("jpeg",),
        original_link: bool = True,
        expiring_links: bool = True,
    ) -> str:
        body = {
            "name": name,
            "sizes": sizes,
            "formats": list(formats),
            "original_link": original_link,
            "expiring_links": expiring_links,
        }
        r = await client.post("/api/admin/plans", json=body, headers=admin_headers)
        assert r.status_code == 201, r.text
        return name

    return make


@pytest.fixture
def make_user(client: AsyncTestClient, admin_headers: dict[str, str]) -> Callable[..., Any]:
    """Create a user through the admin API and return their auth headers."""

    async def make(username: str, plan: str = "Basic", is_admin: bool = False) -> dict[str, str]:
        r = await client.post(
            "/api/admin/users",
            json={
                "username": username,
                "password": "secret-pass",
                "plan": plan,
                "is_admin": is_admin,
            },
            headers=admin_headers,
        )
        assert r.status_code == 201, r.text
        return await bearer(client, username, "secret-pass")

    return make
