"""How long an expiring link lasts once its owner loses the right to share: an app link is
judged at every open, a presigned S3 link only by S3 (until it expires). The README says
so where it explains expiring links; a deletion ends both (see test_durable_delete)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_paragraphs_about(word: str) -> list[str]:
    paragraphs = re.split(r"\n\s*\n", README.read_text())
    return [" ".join(p.split()) for p in paragraphs if word.lower() in p.lower()]


@pytest.mark.parametrize("storage_env", ["s3"], indirect=True)
async def test_presigned_link_outlives_a_downgrade_and_the_readme_says_so(
    client, make_user, upload, wait_done, admin_headers
) -> None:
    headers = await make_user("lin", plan="Studio")
    r = await upload(headers)
    assert r.status_code == 201, r.text
    image = await wait_done(headers, r.json()["id"])
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links",
        json={"seconds": 3600, "rendition": "low"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    for change in ({"plan": "Basic"}, {"active": False}):
        r = await client.patch("/api/admin/users/lin", json=change, headers=admin_headers)
        assert r.status_code == 200, r.text
        async with httpx.AsyncClient() as outside:
            # S3 checks only the signature and the expiry: the link still opens.
            assert (await outside.get(url)).status_code == 200

    documented = [
        p
        for p in readme_paragraphs_about("presigned")
        if "downgrade" in p and "deactivat" in p and "until" in p and "delet" in p
    ]
    assert documented, "README: say that presigned links outlive a downgrade until expiry"
