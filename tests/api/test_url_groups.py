"""`/v1/url-groups` as a new user meets it: the happy CRUD path, then every way to get it
wrong (auth, tenancy, malformed and oversized bodies, limits, private addresses, unknown
ids), and group tasks whose group is not there when they become due."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tasklane.url_groups import registry_id
from tests.conftest import TOKENS, Api, Servers, eventually, make_settings
from tests.receiver import Receiver

UNKNOWN_ID = "ug_" + "0" * 32
GROUP_ID = re.compile(r"^ug_[0-9a-f]{32}$")
URL = "https://hooks.example.com/a"
OTHER_URL = "https://hooks.example.com/b"


def unique_name(prefix: str = "g") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]  # type: ignore[no-any-return]


def fields_of(response: httpx.Response) -> list[str]:
    return [d["field"] for d in error_of(response)["details"] or []]


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class Groups:
    """Creates groups through a client and deletes whatever is left of them at the end, so
    the organisation's registry (shared by the whole session) never fills up."""

    def __init__(self) -> None:
        self.created: list[tuple[httpx.AsyncClient, str]] = []

    async def post(self, client: httpx.AsyncClient, body: Any) -> httpx.Response:
        response = await client.post("/v1/url-groups", json=body)
        if response.status_code == 201:
            self.created.append((client, response.json()["id"]))
        return response

    async def make(
        self,
        client: httpx.AsyncClient,
        urls: list[str] | None = None,
        name: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {"name": name or unique_name(), "urls": urls or [URL], **extra}
        response = await self.post(client, body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def cleanup(self) -> None:
        for client, group_id in self.created:
            if not client.is_closed:
                await client.delete(f"/v1/url-groups/{group_id}")


@pytest.fixture
async def groups() -> AsyncIterator[Groups]:
    made = Groups()
    yield made
    await made.cleanup()


async def final_task(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        task = (await client.get(f"/v1/tasks/{task_id}")).json()
        return task if task["status"] in ("completed", "failed", "cancelled") else None

    return await eventually(check, timeout_s=60)  # type: ignore[no-any-return]


# --- the happy path ---------------------------------------------------------------------


async def test_create_then_get_returns_the_same_group(acme, groups) -> None:
    name = unique_name("invoices")
    response = await groups.post(
        acme,
        {"name": name, "urls": [URL, OTHER_URL], "description": "every invoice processor"},
    )
    assert response.status_code == 201, response.text
    group = response.json()
    assert set(group) == {"id", "name", "description", "urls", "created_at", "updated_at"}
    assert GROUP_ID.match(group["id"]), group["id"]
    assert group["name"] == name
    assert group["urls"] == [URL, OTHER_URL]
    assert group["description"] == "every invoice processor"
    assert group["created_at"] == group["updated_at"]
    age = datetime.now(UTC) - when(group["created_at"])
    assert abs(age.total_seconds()) < 60, group["created_at"]

    fetched = await acme.get(f"/v1/url-groups/{group['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == group


async def test_description_is_optional(acme, groups) -> None:
    group = await groups.make(acme)
    assert group["description"] is None


async def test_list_shows_the_group_with_total_and_pages(acme, groups) -> None:
    made = [await groups.make(acme, name=unique_name("list")) for _ in range(3)]
    listing = await acme.get("/v1/url-groups", params={"limit": 100})
    assert listing.status_code == 200
    body = listing.json()
    assert set(body) == {"total", "url_groups"}
    ids = [g["id"] for g in body["url_groups"]]
    assert [g["id"] for g in made] == [i for i in ids if i in {g["id"] for g in made}]
    assert made[0] in body["url_groups"]
    total = body["total"]
    assert total >= 3 and len(ids) == min(total, 100)

    # Oldest first: the three just made are the newest, in the order they were made.
    assert ids[-3:] == [g["id"] for g in made]
    position = ids.index(made[0]["id"])
    one = (await acme.get("/v1/url-groups", params={"limit": 1, "offset": position})).json()
    assert one["total"] == total
    assert [g["id"] for g in one["url_groups"]] == [made[0]["id"]]
    two = (await acme.get("/v1/url-groups", params={"limit": 2, "offset": position + 1})).json()
    assert [g["id"] for g in two["url_groups"]] == [made[1]["id"], made[2]["id"]]
    past = (await acme.get("/v1/url-groups", params={"offset": total + 5})).json()
    assert past == {"total": total, "url_groups": []}


@pytest.mark.parametrize(
    "query", ["limit=101", "limit=0", "limit=-1", "limit=x", "offset=-1", "offset=x"]
)
async def test_bad_list_parameters_are_400_naming_them(acme, query) -> None:
    answer = await acme.get(f"/v1/url-groups?{query}")
    assert answer.status_code == 400, answer.text
    assert fields_of(answer) == [query.split("=")[0]]


async def test_patch_each_field(acme, groups) -> None:
    group = await groups.make(acme, urls=[URL], description="first")
    created_at, updated_at = group["created_at"], group["updated_at"]

    new_name = unique_name("renamed")
    renamed = await acme.patch(f"/v1/url-groups/{group['id']}", json={"name": new_name})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == new_name
    assert renamed.json()["urls"] == [URL] and renamed.json()["description"] == "first"
    assert renamed.json()["created_at"] == created_at
    assert when(renamed.json()["updated_at"]) > when(updated_at)
    updated_at = renamed.json()["updated_at"]

    moved = await acme.patch(f"/v1/url-groups/{group['id']}", json={"urls": [OTHER_URL, URL]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["urls"] == [OTHER_URL, URL]
    assert moved.json()["name"] == new_name
    assert moved.json()["created_at"] == created_at
    assert when(moved.json()["updated_at"]) > when(updated_at)
    updated_at = moved.json()["updated_at"]

    described = await acme.patch(f"/v1/url-groups/{group['id']}", json={"description": "second"})
    assert described.status_code == 200
    assert described.json()["description"] == "second"
    assert when(described.json()["updated_at"]) > when(updated_at)

    cleared = await acme.patch(f"/v1/url-groups/{group['id']}", json={"description": None})
    assert cleared.status_code == 200
    assert cleared.json()["description"] is None
    assert cleared.json()["name"] == new_name and cleared.json()["urls"] == [OTHER_URL, URL]
    assert cleared.json()["created_at"] == created_at

    fetched = (await acme.get(f"/v1/url-groups/{group['id']}")).json()
    assert fetched == cleared.json()


async def test_patch_keeping_its_own_name_is_not_a_conflict(acme, groups) -> None:
    group = await groups.make(acme)
    same = await acme.patch(
        f"/v1/url-groups/{group['id']}", json={"name": group["name"], "urls": [OTHER_URL]}
    )
    assert same.status_code == 200, same.text
    assert same.json()["urls"] == [OTHER_URL]


async def test_delete_then_404_and_the_name_is_free_again(acme, groups) -> None:
    group = await groups.make(acme)
    deleted = await acme.delete(f"/v1/url-groups/{group['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": group["id"], "deleted": True}

    for method in ("GET", "DELETE"):
        gone = await acme.request(method, f"/v1/url-groups/{group['id']}")
        assert gone.status_code == 404, method
        assert error_of(gone)["code"] == "not_found"
    patched = await acme.patch(f"/v1/url-groups/{group['id']}", json={"urls": [URL]})
    assert patched.status_code == 404
    listing = (await acme.get("/v1/url-groups", params={"limit": 100})).json()
    assert group["id"] not in [g["id"] for g in listing["url_groups"]]

    again = await groups.make(acme, name=group["name"])
    assert again["id"] != group["id"]


# --- names ------------------------------------------------------------------------------


async def test_duplicate_name_in_the_same_organisation_is_409(acme, groups) -> None:
    group = await groups.make(acme)
    answer = await groups.post(acme, {"name": group["name"], "urls": [OTHER_URL]})
    assert answer.status_code == 409, answer.text
    error = error_of(answer)
    assert error["code"] == "duplicate_name"
    assert fields_of(answer) == ["name"]
    assert group["id"] in error["message"]


async def test_same_name_in_another_organisation_is_fine(acme, globex, groups) -> None:
    ours = await groups.make(acme)
    theirs = await groups.make(globex, name=ours["name"])
    assert theirs["id"] != ours["id"]
    assert (await acme.get(f"/v1/url-groups/{ours['id']}")).json()["urls"] == ours["urls"]


async def test_rename_onto_an_existing_name_is_409_and_changes_nothing(acme, groups) -> None:
    first = await groups.make(acme)
    second = await groups.make(acme)
    answer = await acme.patch(
        f"/v1/url-groups/{second['id']}", json={"name": first["name"], "urls": [OTHER_URL]}
    )
    assert answer.status_code == 409
    assert error_of(answer)["code"] == "duplicate_name"
    assert fields_of(answer) == ["name"]
    assert (await acme.get(f"/v1/url-groups/{second['id']}")).json() == second


@pytest.mark.parametrize(
    "name",
    ["bad name", "a" * 65, "-leading", ".leading", "_leading", "", "ünïcode", "a/b", "a:b"],
)
async def test_invalid_group_name_is_400_naming_it(acme, groups, name) -> None:
    answer = await groups.post(acme, {"name": name, "urls": [URL]})
    assert answer.status_code == 400, answer.text
    assert error_of(answer)["code"] == "invalid_request"
    assert fields_of(answer) == ["name"]


async def test_longest_name_is_accepted(acme, groups) -> None:
    name = "a" + uuid.uuid4().hex + "b" * 31
    assert len(name) == 64
    assert (await groups.make(acme, name=name))["name"] == name


async def test_name_with_a_trailing_newline_is_400(acme, groups) -> None:
    answer = await groups.post(acme, {"name": unique_name() + "\n", "urls": [URL]})
    assert answer.status_code == 400, answer.text
    assert fields_of(answer) == ["name"]


async def test_invalid_name_in_patch_is_400(acme, groups) -> None:
    group = await groups.make(acme)
    answer = await acme.patch(f"/v1/url-groups/{group['id']}", json={"name": "bad name"})
    assert answer.status_code == 400
    assert fields_of(answer) == ["name"]
    assert (await acme.get(f"/v1/url-groups/{group['id']}")).json()["name"] == group["name"]


# --- auth and tenancy -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Token {TOKENS['acme']}"},
        {"Authorization": f"Basic {TOKENS['acme']}"},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "bad-key", "token-scheme", "basic-scheme", "empty-bearer"],
)
async def test_missing_or_bad_key_is_401_on_every_route(stack: Api, acme, groups, headers) -> None:
    group = await groups.make(acme)
    routes = [
        ("POST", "/v1/url-groups", {"name": unique_name(), "urls": [URL]}),
        ("GET", "/v1/url-groups", None),
        ("GET", f"/v1/url-groups/{group['id']}", None),
        ("PATCH", f"/v1/url-groups/{group['id']}", {"urls": [OTHER_URL]}),
        ("DELETE", f"/v1/url-groups/{group['id']}", None),
        ("GET", f"/v1/url-groups/{UNKNOWN_ID}", None),
        ("PATCH", "/v1/url-groups/nope", {"urls": [OTHER_URL]}),
    ]
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as anonymous:
        for method, url, body in routes:
            answer = await anonymous.request(method, url, json=body)
            assert answer.status_code == 401, (method, url, answer.text)
            assert error_of(answer)["code"] == "unauthorized"
            assert answer.headers["www-authenticate"] == "Bearer"
    assert (await acme.get(f"/v1/url-groups/{group['id']}")).json() == group


async def test_api_key_query_parameter_works(stack: Api, acme, groups) -> None:
    group = await groups.make(acme)
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        answer = await anonymous.get(
            f"/v1/url-groups/{group['id']}", params={"api_key": TOKENS["acme"]}
        )
    assert answer.status_code == 200
    assert answer.json() == group


async def test_another_organisation_cannot_see_or_touch_the_group(acme, globex, groups) -> None:
    group = await groups.make(acme, description="acme only")
    url = f"/v1/url-groups/{group['id']}"
    for answer in [
        await globex.get(url),
        await globex.patch(url, json={"name": unique_name("stolen")}),
        await globex.patch(url, json={"urls": [OTHER_URL]}),
        await globex.delete(url),
    ]:
        assert answer.status_code == 404, answer.text
        assert error_of(answer)["code"] == "not_found"
    listing = (await globex.get("/v1/url-groups", params={"limit": 100})).json()
    assert group["id"] not in [g["id"] for g in listing["url_groups"]]
    assert group["name"] not in [g["name"] for g in listing["url_groups"]]
    assert (await acme.get(url)).json() == group


async def test_same_organisation_other_key_shares_the_groups(stack: Api, acme, groups) -> None:
    group = await groups.make(acme)
    async with stack.client("alice") as alice:
        assert (await alice.get(f"/v1/url-groups/{group['id']}")).json() == group
        taken = await alice.post("/v1/url-groups", json={"name": group["name"], "urls": [URL]})
        assert taken.status_code == 409


async def test_task_of_another_organisation_cannot_use_the_group(
    acme, globex, groups, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/a", 200), receiver.script(f"{path}/b", 200)]
    group = await groups.make(acme, urls=urls)
    answer = await globex.post(
        "/v1/tasks", json={"target": f"group:{group['name']}", "payload": {"n": 1}}
    )
    assert answer.status_code == 201, answer.text
    task = await final_task(globex, answer.json()["id"])
    assert task["status"] == "failed"
    assert task["error"]["code"] == "group_not_found"
    assert group["name"] in task["error"]["message"]
    assert receiver.at(f"{path}/a") == [] and receiver.at(f"{path}/b") == []
    # Acme's own task on the same group does reach them: the group was usable all along.
    mine = await acme.post("/v1/tasks", json={"target": f"group:{group['name']}"})
    assert (await final_task(acme, mine.json()["id"]))["status"] == "completed"
    assert len(receiver.at(f"{path}/a")) == 1 and len(receiver.at(f"{path}/b")) == 1


# --- malformed bodies -------------------------------------------------------------------


async def test_invalid_json_is_400(acme) -> None:
    answer = await acme.post(
        "/v1/url-groups",
        content=b'{"name": "x", "urls": [',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert error_of(answer)["code"] == "invalid_json"


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n"])
async def test_empty_body_is_400_naming_body(acme, raw) -> None:
    answer = await acme.post(
        "/v1/url-groups", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert fields_of(answer) == ["body"]


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"name"', b"42", b"null"])
async def test_body_that_is_not_an_object_is_400(acme, raw) -> None:
    answer = await acme.post(
        "/v1/url-groups", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert fields_of(answer) == ["body"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"urls": [URL]}, "name"),
        ({"name": "x"}, "urls"),
        ({"name": 42, "urls": [URL]}, "name"),
        ({"name": "x", "urls": URL}, "urls"),
        ({"name": "x", "urls": {"a": URL}}, "urls"),
        ({"name": "x", "urls": [42]}, "urls.0"),
        ({"name": "x", "urls": [URL], "description": 7}, "description"),
        ({"name": "x", "urls": [URL], "colour": "red"}, "colour"),
        ({"name": "x", "urls": []}, "urls"),
        ({"name": "x", "urls": ["ftp://example.com/x"]}, "urls[0]"),
        ({"name": "x", "urls": [URL, "/relative/path"]}, "urls[1]"),
        ({"name": "x", "urls": [URL, "example.com/x"]}, "urls[1]"),
        ({"name": "x", "urls": ["http:///no-host"]}, "urls[0]"),
        ({"name": "x", "urls": ["javascript:alert(1)"]}, "urls[0]"),
        ({"name": "x", "urls": [URL, OTHER_URL, URL]}, "urls"),
    ],
)
async def test_invalid_create_is_400_naming_the_field(acme, groups, body, field) -> None:
    body = {**body, "name": unique_name()} if body.get("name") == "x" else body
    answer = await groups.post(acme, body)
    assert answer.status_code == 400, answer.text
    assert field in fields_of(answer), answer.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"urls": []}, "urls"),
        ({"urls": None}, "urls"),
        ({"urls": "https://x.example/"}, "urls"),
        ({"urls": ["ftp://example.com/x"]}, "urls[0]"),
        ({"urls": [URL, URL]}, "urls"),
        ({"name": None}, "name"),
        ({"name": None, "urls": [OTHER_URL]}, "name"),
        ({"id": UNKNOWN_ID}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({}, "body"),
    ],
)
async def test_invalid_patch_is_400_and_changes_nothing(acme, groups, body, field) -> None:
    group = await groups.make(acme, description="keep")
    answer = await acme.patch(f"/v1/url-groups/{group['id']}", json=body)
    assert answer.status_code == 400, answer.text
    assert field in fields_of(answer), answer.text
    assert (await acme.get(f"/v1/url-groups/{group['id']}")).json() == group


async def test_patch_with_empty_body_is_400(acme, groups) -> None:
    group = await groups.make(acme)
    answer = await acme.patch(f"/v1/url-groups/{group['id']}", content=b"")
    assert answer.status_code == 400
    assert fields_of(answer) == ["body"]


# --- limits -----------------------------------------------------------------------------


async def test_description_over_the_limit_is_422(acme, groups) -> None:
    answer = await groups.post(
        acme, {"name": unique_name(), "urls": [URL], "description": "d" * 1001}
    )
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["code"] == "limit_exceeded"
    assert fields_of(answer) == ["description"]
    group = await groups.make(acme, description="d" * 1000)
    assert len(group["description"]) == 1000
    patched = await acme.patch(f"/v1/url-groups/{group['id']}", json={"description": "e" * 1001})
    assert patched.status_code == 422
    assert fields_of(patched) == ["description"]


async def test_more_than_100_urls_is_422(acme, groups) -> None:
    urls = [f"https://hooks.example.com/{i}" for i in range(101)]
    answer = await groups.post(acme, {"name": unique_name(), "urls": urls})
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["code"] == "limit_exceeded"
    assert fields_of(answer) == ["urls"]
    group = await groups.make(acme, urls=urls[:100])
    assert len(group["urls"]) == 100
    patched = await acme.patch(f"/v1/url-groups/{group['id']}", json={"urls": urls})
    assert patched.status_code == 422
    assert fields_of(patched) == ["urls"]
    assert len((await acme.get(f"/v1/url-groups/{group['id']}")).json()["urls"]) == 100


async def test_url_longer_than_2048_is_422_naming_it(acme, groups) -> None:
    long_url = "https://hooks.example.com/" + "a" * 2048
    answer = await groups.post(acme, {"name": unique_name(), "urls": [URL, long_url]})
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["code"] == "limit_exceeded"
    assert fields_of(answer) == ["urls[1]"]
    just_fits = "https://hooks.example.com/" + "a" * (2048 - len("https://hooks.example.com/"))
    assert len(just_fits) == 2048
    assert (await groups.make(acme, urls=[just_fits]))["urls"] == [just_fits]


async def test_body_over_max_body_bytes_is_413(stack: Api, acme, groups) -> None:
    limit = stack.settings.tasklane.limits.max_body_bytes
    body = {"name": unique_name(), "urls": [URL], "description": "d" * (limit + 1)}
    answer = await groups.post(acme, body)
    assert answer.status_code == 413, answer.text
    assert error_of(answer)["code"] == "payload_too_large"
    assert fields_of(answer) == ["body"]
    group = await groups.make(acme)
    patched = await acme.patch(
        f"/v1/url-groups/{group['id']}", json={"description": body["description"]}
    )
    assert patched.status_code == 413


async def test_organisation_group_limit_and_list_pages(globex, groups) -> None:
    """Globex fills its 100 groups: the 101st is refused; the list pages through them."""
    limit = 100
    before = (await globex.get("/v1/url-groups", params={"limit": 100})).json()["total"]
    assert before < limit
    prefix = unique_name("fill")
    for i in range(limit - before):
        await groups.make(globex, urls=[f"https://hooks.example.com/{i}"], name=f"{prefix}-{i}")

    refused = await groups.post(globex, {"name": unique_name(), "urls": [URL]})
    assert refused.status_code == 422, refused.text
    assert error_of(refused)["code"] == "limit_exceeded"

    default = (await globex.get("/v1/url-groups")).json()
    assert default["total"] == limit and len(default["url_groups"]) == 50
    everything = (await globex.get("/v1/url-groups", params={"limit": 100})).json()
    assert len(everything["url_groups"]) == limit
    assert len({g["id"] for g in everything["url_groups"]}) == limit
    tail = (await globex.get("/v1/url-groups", params={"offset": 90})).json()
    assert tail["url_groups"] == everything["url_groups"][90:]
    stamps = [when(g["created_at"]) for g in everything["url_groups"]]
    assert stamps == sorted(stamps)

    # One deleted, one more fits.
    last_id = groups.created[-1][1]
    assert (await globex.delete(f"/v1/url-groups/{last_id}")).status_code == 200
    await groups.make(globex)


# --- private addresses ------------------------------------------------------------------


@pytest.fixture
async def public_only(servers: Servers, stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    """An API that refuses private targets, over the session's Temporal and worker."""
    settings = servers.settings(stack.settings.task_queue, allow_private=False)
    api = await servers.api(settings)
    async with api.client("acme") as client:
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.1/",
        "http://192.168.1.20/",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/x",
        "http://[::1]/",
    ],
)
async def test_private_urls_are_422_when_not_allowed(public_only, groups, url) -> None:
    answer = await groups.post(public_only, {"name": unique_name(), "urls": [URL, url]})
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["code"] == "private_target"
    assert fields_of(answer) == ["urls[1]"]


async def test_private_url_in_patch_is_422_when_not_allowed(public_only, groups) -> None:
    group = await groups.make(public_only, urls=[URL])
    answer = await public_only.patch(
        f"/v1/url-groups/{group['id']}", json={"urls": [OTHER_URL, "http://10.0.0.1/"]}
    )
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["code"] == "private_target"
    assert fields_of(answer) == ["urls[1]"]
    assert (await public_only.get(f"/v1/url-groups/{group['id']}")).json()["urls"] == [URL]


# --- unknown ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "group_id",
    [UNKNOWN_ID, "nope", "ug_123", "ug_" + "A" * 32, "ug_" + "0" * 33, "task_" + "0" * 32],
)
async def test_unknown_or_malformed_id_is_404(acme, groups, group_id) -> None:
    await groups.make(acme)  # the organisation has a registry: the 404 is not "no registry"
    for method, body in [("GET", None), ("PATCH", {"urls": [URL]}), ("DELETE", None)]:
        answer = await acme.request(method, f"/v1/url-groups/{group_id}", json=body)
        assert answer.status_code == 404, (method, answer.text)
        assert error_of(answer)["code"] == "not_found"


async def test_unknown_id_patch_is_404_even_with_a_taken_name(acme, groups) -> None:
    group = await groups.make(acme)
    answer = await acme.patch(f"/v1/url-groups/{UNKNOWN_ID}", json={"name": group["name"]})
    assert answer.status_code == 404


# --- group tasks whose group is missing -------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "group:bad name",
        "group:",
        "group:-leading",
        "group:" + "a" * 65,
        {"url": "group:bad name", "method": "POST"},
    ],
)
async def test_task_with_an_invalid_group_name_is_400_naming_target(acme, target) -> None:
    answer = await acme.post("/v1/tasks", json={"target": target})
    assert answer.status_code == 400, answer.text
    assert "target" in fields_of(answer)


async def test_task_on_a_group_that_does_not_exist_fails_group_not_found(acme) -> None:
    name = unique_name("missing")
    answer = await acme.post("/v1/tasks", json={"target": f"group:{name}"})
    assert answer.status_code == 201, answer.text
    task = await final_task(acme, answer.json()["id"])
    assert task["status"] == "failed"
    assert task["error"]["code"] == "group_not_found"
    assert name in task["error"]["message"]
    assert task["group_info"] is None


async def test_task_on_a_renamed_group_fails_and_the_new_name_works(
    acme, groups, receiver: Receiver, path: str
) -> None:
    group = await groups.make(acme, urls=[receiver.script(path, 200)])
    new_name = unique_name("renamed")
    renamed = await acme.patch(f"/v1/url-groups/{group['id']}", json={"name": new_name})
    assert renamed.status_code == 200

    old = await acme.post("/v1/tasks", json={"target": f"group:{group['name']}"})
    assert (await final_task(acme, old.json()["id"]))["error"]["code"] == "group_not_found"
    assert receiver.at(path) == []

    new = await acme.post("/v1/tasks", json={"target": f"group:{new_name}"})
    done = await final_task(acme, new.json()["id"])
    assert done["status"] == "completed", done
    assert len(receiver.at(path)) == 1


async def test_task_on_a_deleted_group_fails_group_not_found(
    acme, groups, receiver: Receiver, path: str
) -> None:
    group = await groups.make(acme, urls=[receiver.script(path, 200)])
    answer = await acme.post(
        "/v1/tasks", json={"target": f"group:{group['name']}", "execute_after": "PT2S"}
    )
    assert answer.status_code == 201
    assert (await acme.delete(f"/v1/url-groups/{group['id']}")).status_code == 200
    task = await final_task(acme, answer.json()["id"])
    assert task["status"] == "failed"
    assert task["error"]["code"] == "group_not_found"
    assert receiver.at(path) == []


# --- bugs found -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [" https://hooks.example.com/a", "https://hooks.example.com/a\nb", "https://ho\tok.example/"],
)
async def test_url_with_whitespace_or_control_characters_is_400(acme, groups, bad) -> None:
    answer = await groups.post(acme, {"name": unique_name(), "urls": [URL, bad]})
    assert answer.status_code == 400, answer.text
    assert fields_of(answer) == ["urls[1]"]


@pytest.fixture
async def lone_org(
    servers: Servers, stack: Api, temporal: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an organisation of its own, so a test that breaks its registry breaks
    nobody else's; the registry is terminated at the end."""
    organisation = f"lone-{uuid.uuid4().hex[:10]}"
    token = f"tok_lone_{uuid.uuid4().hex}"
    digest = hashlib.sha256(token.encode()).hexdigest()
    config = tmp_path / "lone.toml"
    config.write_text(
        "allow_private_targets = true\n\n"
        f'[[api_keys]]\ntoken_sha256 = "{digest}"\norganisation = "{organisation}"\n'
    )
    settings = make_settings(temporal, stack.settings.redis_url, config, stack.settings.task_queue)
    api = await servers.api(settings)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60) as client:
        yield client
    try:
        registry = registry_id(stack.settings.task_queue, organisation)
        await temporal.client.get_workflow_handle(registry).terminate("test cleanup")
    except RPCError:
        pass  # never started


async def test_lone_organisation_works(lone_org) -> None:
    """The fixture the next test relies on is sound: its organisation has working groups."""
    assert (await lone_org.get("/v1/url-groups")).json() == {"total": 0, "url_groups": []}
    made = await lone_org.post("/v1/url-groups", json={"name": "only", "urls": [URL]})
    assert made.status_code == 201
    assert (await lone_org.get("/v1/url-groups")).json()["total"] == 1


async def test_non_ascii_urls_cannot_break_the_organisations_registry(lone_org) -> None:
    assert (
        await lone_org.post("/v1/url-groups", json={"name": "kept", "urls": [URL]})
    ).status_code == 201
    urls = [f"https://x{i}.example/" + "\U0001f600" * 2000 for i in range(100)]
    raw = json.dumps({"name": unique_name(), "urls": urls}, ensure_ascii=False).encode()
    assert len(raw) < 1024 * 1024  # within max_body_bytes
    answer = await lone_org.post(
        "/v1/url-groups", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code in (400, 413, 422), answer.text
    listing = await lone_org.get("/v1/url-groups")
    assert listing.status_code == 200, listing.text
    assert [g["name"] for g in listing.json()["url_groups"]] == ["kept"]
