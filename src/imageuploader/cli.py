"""Command-line entry point: serve, migrate, create users, reprocess, rebalance."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from imageuploader.logs import configure_logging
from imageuploader.settings import ConfigError, Settings

if TYPE_CHECKING:
    from litestar import Litestar
    from piccolo.engine.base import Engine


def _settings() -> Settings:
    try:
        return Settings.from_env(os.environ)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _logging(settings: Settings) -> None:
    configure_logging(settings.log_level)


# uvloop's event loop and httptools' C parser (uvicorn[standard]); our JSON logging
# stays in charge, and the app logs each request with its id.
# Set by `serve --workers N` for its worker processes: the database is prepared.
PREPARED_ENV = "IMAGEUPLOADER_DATABASE_PREPARED"

UVICORN_OPTIONS = {"loop": "uvloop", "http": "httptools", "log_config": None, "access_log": False}


def web_app() -> Litestar:
    """The app from the environment: what each `serve --workers N` process builds."""
    from imageuploader.app import create_app

    settings = _settings()
    _logging(settings)
    if os.environ.get(PREPARED_ENV) == "1":
        # The `serve` parent migrated and seeded once before starting the workers.
        settings = replace(settings, prepare_database=False)
    return create_app(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    _logging(settings)
    if args.workers > 1 and not settings.shared_redis_url:
        # Sessions, rate limits, the caches and their invalidation must be shared.
        print(
            "configuration error: --workers above 1 needs CACHE_URL=redis://... "
            "(shared by every process)",
            file=sys.stderr,
        )
        return 2
    where = f"http://{settings.host}:{settings.port}"
    print(f"imageuploader: serving on {where} with {args.workers} process(es)", flush=True)
    if args.workers == 1:
        uvicorn.run(web_app(), host=settings.host, port=settings.port, **UVICORN_OPTIONS)
    else:
        # Migrate and seed once, here: N processes doing it at once race (on SQLite,
        # "table already exists"). The workers inherit the flag and skip it.
        asyncio.run(_prepare(settings.with_secret()))
        os.environ[PREPARED_ENV] = "1"
        # Each process builds its own app (and connections) from the environment.
        uvicorn.run(
            "imageuploader.cli:web_app",
            factory=True,
            workers=args.workers,
            host=settings.host,
            port=settings.port,
            **UVICORN_OPTIONS,
        )
    return 0


async def _prepare(settings: Settings, engine: Engine | None = None) -> None:
    """Bind the database (the services' engine when there are services), migrate, seed."""
    from imageuploader import db
    from imageuploader.accounts.seed import seed

    db.use_engine(engine or db.engine_for(settings.database_url))
    await db.migrate()
    await seed(settings)


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings().with_secret()
    _logging(settings)
    asyncio.run(_prepare(settings))
    print("database migrated and seeded")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from imageuploader.accounts.schemas import UserIn
    from imageuploader.container import build_services
    from imageuploader.errors import DomainError

    settings = _settings().with_secret()
    _logging(settings)
    password = args.password or os.environ.get("NEW_USER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("error: give --password or NEW_USER_PASSWORD", file=sys.stderr)
            return 2
        password = getpass.getpass(f"Password for {args.username}: ")

    async def run() -> None:
        services = build_services(settings)
        await _prepare(settings, services.engine)
        user = await services.users.create(
            UserIn(username=args.username, password=password, plan=args.plan, is_admin=args.admin)
        )
        role = "admin" if user.is_admin else "user"
        print(f"created {role} {user.username!r} on plan {args.plan}")

    try:
        asyncio.run(run())
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from imageuploader import maintenance
    from imageuploader.container import build_services

    settings = _settings().with_secret()
    _logging(settings)

    async def run() -> maintenance.ReprocessResult:
        services = build_services(settings)
        await _prepare(settings, services.engine)
        try:
            return await maintenance.reprocess(
                services, everything=args.all, say=lambda line: print(line, flush=True)
            )
        finally:
            services.broker.close()

    result = asyncio.run(run())
    if result.queued or result.variants_queued:
        print(f"{result.queued} renditions and {result.variants_queued} variants queued")
    else:
        print(f"{result.selected} renditions: {result.ready} ready, {result.failed} failed")
        print(
            f"{result.variants_selected} variants: {result.variants_ready} ready,"
            f" {result.variants_failed} failed"
        )
    return 1 if result.failed or result.variants_failed else 0


def cmd_rebalance(args: argparse.Namespace) -> int:
    from imageuploader import maintenance
    from imageuploader.container import make_image_cache, make_storage
    from imageuploader.storage import S3Storage

    settings = _settings().with_secret()
    _logging(settings)
    storage = make_storage(settings)
    if not isinstance(storage, S3Storage):
        print("error: rebalance applies to S3 storage (STORAGE_URL=s3://...)", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(line, flush=True)

    async def dry_run() -> int:
        await _prepare(settings)
        moves = await maintenance.planned_moves(storage)
        for placement, target in moves:
            say(f"would move {placement.image_id}: {placement.location} -> {target}")
        return len(moves)

    async def run() -> maintenance.RebalanceReport:
        await _prepare(settings)
        await asyncio.to_thread(storage.ensure_ready)  # a newly listed bucket may not exist
        cache = make_image_cache(settings)
        return await maintenance.rebalance_buckets(storage, say=say, cache=cache)

    if args.dry_run:
        print(f"{asyncio.run(dry_run())} images would move")
        return 0
    report = asyncio.run(run())
    print(
        f"examined {report.examined}, moved {report.moved}, "
        f"in place {report.already_in_place}, stray copies deleted {report.orphans_deleted}, "
        f"deleted while moving {report.gone}"
    )
    for missing in report.missing:
        print(f"MISSING {missing.image_id} {missing.location}/{missing.key}", file=sys.stderr)
    for image_id, error in report.errors:
        print(f"ERROR {image_id}: {error}", file=sys.stderr)
    return 0 if report.ok else 1


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {raw!r}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="imageuploader", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sv = sub.add_parser("serve", help="run the web app (HOST, PORT)")
    sv.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="web processes sharing the port (default 1; above 1 needs a Redis CACHE_URL)",
    )
    sv.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply migrations and seed").set_defaults(func=cmd_migrate)
    cu = sub.add_parser("create-user", help="create a user or an admin")
    cu.add_argument("username")
    cu.add_argument("--password", help="(or NEW_USER_PASSWORD, or asked on a terminal)")
    cu.add_argument("--plan", default="Basic", help="plan name (default Basic)")
    cu.add_argument("--admin", action="store_true", help="make the user an administrator")
    cu.set_defaults(func=cmd_create_user)
    rp = sub.add_parser(
        "reprocess",
        help="make missing and failed renditions, then failed variants"
        " (queued on a Redis broker, else done here)",
    )
    rp.add_argument("--all", action="store_true", help="remake every rendition and variant")
    rp.set_defaults(func=cmd_reprocess)
    rb = sub.add_parser(
        "rebalance",
        help="after changing S3_BUCKETS: move images to their ring bucket (stop workers first)",
    )
    rb.add_argument("--dry-run", action="store_true", help="only list what would move")
    rb.set_defaults(func=cmd_rebalance)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
