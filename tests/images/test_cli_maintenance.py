"""`imageuploader reprocess` and `imageuploader rebalance`, run as real commands."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys

import httpx
import pytest

from imageuploader.images.tables import Image, Rendition, Variant
from imageuploader.settings import Settings
from imageuploader.storage import storage_from_url
from tests.conftest import app_for

from .conftest import photo

# Real commands in their own processes: the production shape, outside `make check`.
pytestmark = [pytest.mark.usefixtures("settings"), pytest.mark.e2e]


def command_env(settings: Settings, storage_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "CACHE_URL": "memory://",
        "SECRET_KEY": settings.secret_key,
        **storage_env,
        **extra,
    }


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "imageuploader",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode, out.decode()


class TestReprocess:
    @pytest.fixture
    def app(self, settings: Settings, clock):
        # No worker threads in the app: the command must do the work.
        return app_for(dataclasses.replace(settings, worker_threads=0), clock=clock)

    async def test_makes_missing_and_failed_then_all(
        self, make_user, upload, settings, storage_env
    ) -> None:
        headers = await make_user("ray", plan="Studio")
        image_id = (await upload(headers, photo(900, 600))).json()["id"]
        await Rendition.update({Rendition.status: "failed", Rendition.error: "boom"}).where(
            (Rendition.image == image_id) & (Rendition.slug == "low")
        )
        env = command_env(settings, storage_env)

        code, out = await run_cli(env, "reprocess")
        assert code == 0, out
        # high (the primary) and very-high (the same 900x600) were made at upload;
        # medium is pending and low failed.
        assert "2 renditions: 2 ready, 0 failed" in out
        rows = await Rendition.select().where(Rendition.image == image_id)
        assert {r["slug"]: r["status"] for r in rows} == dict.fromkeys(
            ["very-high", "high", "medium", "low"], "ready"
        )
        assert {r["slug"]: (r["width"], r["height"]) for r in rows}["low"] == (124, 83)

        code, out = await run_cli(env, "reprocess", "--all")
        assert code == 0, out
        assert "4 renditions: 4 ready, 0 failed" in out

    async def test_all_remakes_variants_after_their_renditions(
        self, make_user, upload, settings, storage_env
    ) -> None:
        headers = await make_user("vic", plan="Studio")
        image_id = (await upload(headers, photo(900, 600))).json()["id"]
        variant_ids = [
            r["id"]
            for r in await Variant.select(Variant.id).where(Variant.rendition.image == image_id)
        ]
        assert len(variant_ids) == 8  # WebP and AVIF of four sizes
        # As if made long ago with other bytes: a remake must replace every one.
        stale = "0" * 64
        await Variant.update(
            {Variant.status: "ready", Variant.digest: stale, Variant.key: "old", Variant.bytes: 1}
        ).where(Variant.id.is_in(variant_ids))
        env = command_env(settings, storage_env)

        code, out = await run_cli(env, "reprocess", "--all")
        assert code == 0, out
        assert "4 renditions: 4 ready, 0 failed" in out
        assert "8 variants: 8 ready, 0 failed" in out
        rows = await Variant.select().where(Variant.id.is_in(variant_ids))
        assert {(r["status"], r["digest"] != stale, r["key"] != "old") for r in rows} == {
            ("ready", True, True)
        }
        lines = out.splitlines()
        last_rendition = max(i for i, line in enumerate(lines) if " rendition " in line)
        first_variant = min(i for i, line in enumerate(lines) if " variant " in line)
        assert last_rendition < first_variant, out


@pytest.mark.parametrize("storage_env", ["s3"], indirect=True)
async def test_rebalance_moves_exactly_the_changed_images(
    make_user, upload, wait_done, settings, storage_env
) -> None:
    headers = await make_user("reb", plan="Premium")
    # Distinct sizes: the same bytes twice would be one image (a duplicate).
    ids = [(await upload(headers, photo(300 + n, 200))).json()["id"] for n in range(12)]
    assert len(set(ids)) == 12
    for image_id in ids:
        await wait_done(headers, image_id)
    before = {str(r["id"]): r["location"] for r in await Image.select(Image.id, Image.location)}

    buckets = storage_env["S3_BUCKETS"].split(",")
    grown = ",".join([*buckets, buckets[0] + "-new"])
    env = command_env(settings, storage_env, S3_BUCKETS=grown)
    ring5 = storage_from_url(env["STORAGE_URL"], buckets=grown.split(","), public_url=None)
    expected_moves = {i for i in ids if ring5.locate(i) != before[i]}

    code, out = await run_cli(env, "rebalance", "--dry-run")
    assert code == 0, out
    assert f"{len(expected_moves)} images would move" in out

    code, out = await run_cli(env, "rebalance")
    assert code == 0, out
    assert f"moved {len(expected_moves)}," in out
    after = {str(r["id"]): r["location"] for r in await Image.select(Image.id, Image.location)}
    assert {i for i in ids if after[i] != before[i]} == expected_moves
    # Object by object: every key is where the row says, and gone from where it was.
    for row in await Rendition.select(Rendition.image, Rendition.key):
        image_id = str(row["image"])
        assert ring5.stat(after[image_id], row["key"]).size > 0
        if image_id in expected_moves:
            assert row["key"] not in set(ring5.list_keys(before[image_id]))

    code, out = await run_cli(env, "rebalance")  # again: nothing left to do
    assert code == 0, out
    assert "moved 0," in out


async def expiring_links(client, headers, ids: list[str], slugs: list[str]) -> dict:
    """A fresh expiring link per image and slug (presigned for where its row says now)."""
    links = {}
    for image_id in ids:
        for slug in slugs:
            r = await client.post(
                f"/api/images/{image_id}/expiring-links",
                json={"seconds": 600, "rendition": slug},
                headers=headers,
            )
            assert r.status_code == 201, r.text
            links[image_id, slug] = r.json()["url"]
    return links


async def opened(links: dict) -> dict:
    """The bytes behind each link, fetched from the S3 server with no app credentials."""
    found = {}
    async with httpx.AsyncClient() as outside:
        for target, url in links.items():
            r = await outside.get(url)
            assert r.status_code == 200, (target, r.text)
            found[target] = r.content
    return found


# One database: the point is the buckets, and the test above runs rebalance on
# both; on PostgreSQL (a connection per query here) its 200 links cost 20 s.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("storage_env", ["s3"], indirect=True)
async def test_rebalance_killed_midway_then_rerun_loses_nothing(
    client, make_user, upload, wait_done, settings, storage_env
) -> None:
    headers = await make_user("kim", plan="Enterprise")
    # Distinct sizes: the same bytes twice would be one image (a duplicate).
    ids = [(await upload(headers, photo(300 + n, 200))).json()["id"] for n in range(24)]
    assert len(set(ids)) == 24
    for image_id in ids:
        await wait_done(headers, image_id)
    slugs = ["original", "h200", "h400"]
    before = {str(r["id"]): r["location"] for r in await Image.select(Image.id, Image.location)}
    content = await opened(await expiring_links(client, headers, ids, slugs))

    # A fifth bucket moves about a fifth of the images. The command is killed
    # after its first move, so pick a name that moves at least three: the kill
    # then lands with work left (which images move depends on the random ids).
    buckets = storage_env["S3_BUCKETS"].split(",")
    for n in range(100):
        grown = [*buckets, f"{buckets[0]}-n{n}"]
        ring5 = storage_from_url(storage_env["STORAGE_URL"], buckets=grown, public_url=None)
        moving = {i for i in ids if ring5.locate(i) != before[i]}
        if len(moving) >= 3:
            break
    assert 3 <= len(moving) <= len(ids) // 2, moving
    env = command_env(settings, storage_env, S3_BUCKETS=",".join(grown))

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "imageuploader", "rebalance",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    while not any(line.startswith("moved ") for line in seen):
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        assert line, f"rebalance ended before moving anything: {seen}"
        seen.append(line.decode())
    proc.kill()
    assert await proc.wait() == -signal.SIGKILL, seen

    # Interrupted: each row points at a complete copy, and every link opens.
    middle = {str(r["id"]): r["location"] for r in await Image.select(Image.id, Image.location)}
    assert 1 <= sum(middle[i] != before[i] for i in ids) < len(moving)
    assert await opened(await expiring_links(client, headers, ids, slugs)) == content

    code, out = await run_cli(env, "rebalance")
    assert code == 0, out
    after = {str(r["id"]): r["location"] for r in await Image.select(Image.id, Image.location)}
    assert after == {i: ring5.locate(i) for i in ids}
    assert {i for i in ids if after[i] != before[i]} == moving
    for row in await Rendition.select(Rendition.image, Rendition.key):
        image_id = str(row["image"])
        assert ring5.stat(after[image_id], row["key"]).size > 0
        if image_id in moving:
            assert list(ring5.list_keys(before[image_id], f"{image_id}/")) == []
    assert await opened(await expiring_links(client, headers, ids, slugs)) == content
