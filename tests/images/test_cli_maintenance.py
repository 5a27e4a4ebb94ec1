"""`imageuploader reprocess` and `imageuploader rebalance`, run as real commands."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys

import pytest

from imageuploader.app import create_app
from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings
from imageuploader.storage import storage_from_url

from .conftest import photo

pytestmark = pytest.mark.usefixtures("settings")


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
        return create_app(dataclasses.replace(settings, worker_threads=0), clock=clock)

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


@pytest.mark.parametrize("storage_env", ["s3"], indirect=True)
async def test_rebalance_moves_exactly_the_changed_images(
    make_user, upload, wait_done, settings, storage_env
) -> None:
    headers = await make_user("reb", plan="Premium")
    ids = [(await upload(headers, photo(300, 200))).json()["id"] for _ in range(12)]
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
