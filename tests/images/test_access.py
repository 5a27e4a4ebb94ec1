"""Who may reach what: every image route x {anonymous, other user, owner, admin}."""

from __future__ import annotations

import pytest

from .conftest import photo

pytestmark = pytest.mark.usefixtures("settings")

WHO = ("anonymous", "other", "owner", "admin")

# (method, path template, JSON body, expected status per WHO). The owner's plan has
# two of Studio's sizes, its original and expiring links, and JPEG alone: the matrix is
# about who reaches what, and Studio's twelve encodes (AVIF among them) would dominate
# each cell. The admin is seeded on Enterprise.
OWNER_PLAN = {
    "name": "Matrix",
    "sizes": ["high", "low"],
    "original_link": True,
    "expiring_links": True,
    "formats": ["jpeg"],
}
ROUTES = [
    ("GET", "/api/images/{id}", None, (401, 404, 200, 200)),
    ("DELETE", "/api/images/{id}", None, (401, 404, 204, 204)),
    ("POST", "/api/images/{id}/expiring-links", {"seconds": 600}, (401, 404, 201, 201)),
    (
        "POST",
        "/api/images/{id}/expiring-links",
        {"seconds": 600, "rendition": "low"},
        (401, 404, 201, 201),
    ),
    ("GET", "/media/{id}/original", None, (401, 404, 200, 200)),
    ("GET", "/media/{id}/high", None, (401, 404, 200, 200)),
    ("GET", "/media/{id}/low", None, (401, 404, 200, 200)),
    ("GET", "/media/{id}/h200", None, (401, 404, 403, 403)),  # not a size of the plan
    ("GET", "/api/images", None, (401, 200, 200, 200)),
    ("POST", "/api/images", None, (401, 201, 201, 201)),
    ("GET", "/api/me", None, (401, 200, 200, 200)),
    ("GET", "/api/admin/users", None, (401, 403, 403, 200)),
    ("POST", "/api/admin/plans", {"name": "X", "sizes": ["h200"]}, (401, 403, 403, 201)),
    ("GET", "/api/admin/sizes", None, (401, 403, 403, 200)),
    ("PATCH", "/api/admin/users/{owner}", {"plan": "Basic"}, (401, 403, 403, 200)),
]

CELLS = [
    pytest.param(method, path, body, who, expected[i], id=f"{method} {path} {who}")
    for method, path, body, expected in ROUTES
    for i, who in enumerate(WHO)
]


@pytest.mark.parametrize(("method", "path", "body", "who", "expected"), CELLS)
async def test_access_matrix(
    client, make_user, admin_headers, upload, wait_done, method, path, body, who, expected
) -> None:
    r = await client.post("/api/admin/plans", json=OWNER_PLAN, headers=admin_headers)
    assert r.status_code == 201, r.text
    owner = await make_user("owner", plan=OWNER_PLAN["name"])
    other = await make_user("other", plan=OWNER_PLAN["name"])
    r = await upload(owner, photo(160, 120))
    assert r.status_code == 201, r.text
    image = await wait_done(owner, r.json()["id"])
    headers = {"anonymous": {}, "other": other, "owner": owner, "admin": admin_headers}[who]

    url = path.format(id=image["id"], owner="owner")
    if method == "POST" and path == "/api/images":
        resp = await upload(headers, photo(150, 100))  # not the owner's bytes again
    else:
        resp = await client.request(method, url, json=body, headers=headers)
    assert resp.status_code == expected, resp.text

    if expected >= 400:
        assert resp.json()["detail"]
    # Refused cells changed nothing: the owner still has the image, unchanged.
    if who in ("anonymous", "other"):
        still = await client.get(f"/api/images/{image['id']}", headers=owner)
        assert still.status_code == 200
        assert still.json()["renditions"] == image["renditions"]


async def test_other_users_list_never_shows_my_images(client, make_user, upload) -> None:
    owner = await make_user("owner", plan="Studio")
    other = await make_user("other", plan="Basic")
    mine = (await upload(owner)).json()["id"]
    theirs = (await upload(other)).json()["id"]
    owner_ids = [i["id"] for i in (await client.get("/api/images", headers=owner)).json()["items"]]
    other_ids = [i["id"] for i in (await client.get("/api/images", headers=other)).json()["items"]]
    assert owner_ids == [mine]
    assert other_ids == [theirs]


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_unknown_ids_are_404_everywhere(client, make_user, bad_id) -> None:
    owner = await make_user("owner", plan="Studio")
    for method, url, body in [
        ("GET", f"/api/images/{bad_id}", None),
        ("DELETE", f"/api/images/{bad_id}", None),
        ("POST", f"/api/images/{bad_id}/expiring-links", {"seconds": 600}),
        ("GET", f"/media/{bad_id}/original", None),
    ]:
        r = await client.request(method, url, json=body, headers=owner)
        assert r.status_code == 404, (method, url, r.text)


async def test_anonymous_page_redirects_to_login(client) -> None:
    r = await client.get("/", headers={"Accept": "text/html"})
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith("/login")


async def test_anonymous_api_says_how_to_authenticate(client) -> None:
    r = await client.get("/api/images")
    assert r.status_code == 401
    assert "Bearer" in r.json()["detail"]
