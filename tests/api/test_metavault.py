"""Metavault `/api/projects/{projectId}/tasks/{taskId}` against the real stack.

Tasks are started the way a host application starts them (TasklaneClient), then read over
HTTP with the keys of tests/conftest.py: `bob` is "Bob Marley" of acme, limited to PROJECT.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tasklane.client import TasklaneClient
from tasklane.ids import as_hex
from tests.conftest import OTHER_PROJECT, PROJECT, Api, eventually

CSV = {"data": "a;b\n1;2\n", "encoding": "utf-8", "content_type": "text/csv", "identifier": "x"}
WITH_RESULT = {"results": [CSV]}
METAVAULT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


@pytest.fixture
async def bob(stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("bob") as client:
        yield client


@pytest.fixture
async def alice(stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("alice") as client:
        yield client


async def start(
    tasks: TasklaneClient,
    payload: dict[str, Any] | None = None,
    *,
    task_type: str = "SCRIPTED",
    user: str | None = "Bob Marley",
    project: str = PROJECT,
) -> str:
    """Start a task as the host application does; its Metavault id (32 hex digits)."""
    task_id = await tasks.start(
        task_type, organisation="acme", user=user, project=project, payload=payload or {}
    )
    return as_hex(task_id)


def task_url(task_id: str, project: str = PROJECT) -> str:
    return f"/api/projects/{project}/tasks/{task_id}"


async def wait_status(
    client: httpx.AsyncClient, task_id: str, *statuses: str, project: str = PROJECT
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        task = (await client.get(task_url(task_id, project))).json()
        return task if task["status"] in statuses else None

    return await eventually(check)  # type: ignore[no-any-return]


def assert_problem(response: httpx.Response, status: int, title: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "about:blank" and body["title"] == title and body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]


async def test_creator_reads_the_task_with_its_user_name(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, WITH_RESULT)
    task = await wait_status(bob, task_id, "Success")
    assert task["id"] == task_id
    assert task["type"] == "SCRIPTED"
    assert task["userName"] == "Bob Marley"
    assert "error" not in task


async def test_creator_downloads_the_result_with_its_content_type(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, WITH_RESULT)
    await wait_status(bob, task_id, "Success")
    result = await bob.get(f"{task_url(task_id)}/result")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/csv"
    assert result.content == b"a;b\n1;2\n"


async def test_another_user_of_the_organisation_gets_404(bob, alice, tasklane_client) -> None:
    task_id = await start(tasklane_client, WITH_RESULT)
    await wait_status(bob, task_id, "Success")
    assert_problem(await alice.get(task_url(task_id)), 404, "Not Found")
    assert_problem(await alice.get(f"{task_url(task_id)}/result"), 404, "Not Found")


async def test_another_organisation_gets_404(bob, globex, tasklane_client) -> None:
    task_id = await start(tasklane_client, WITH_RESULT)
    await wait_status(bob, task_id, "Success")
    assert_problem(await globex.get(task_url(task_id)), 404, "Not Found")
    assert_problem(await globex.get(f"{task_url(task_id)}/result"), 404, "Not Found")


async def test_a_key_without_user_reads_no_task(stack, tasklane_client) -> None:
    task_id = await start(tasklane_client, user=None)
    async with stack.client("acme_service") as service:
        assert_problem(await service.get(task_url(task_id)), 404, "Not Found")


async def test_result_is_gone_after_retention_but_task_still_reads(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, WITH_RESULT, task_type="SHORT_RETENTION")
    await wait_status(bob, task_id, "Success")

    async def gone() -> httpx.Response | None:
        result = await bob.get(f"{task_url(task_id)}/result")
        return result if result.status_code == 410 else None

    assert_problem(await eventually(gone, timeout_s=10), 410, "Gone")
    task = (await bob.get(task_url(task_id))).json()
    assert task["status"] == "Success"
    assert "_links" in task


async def test_result_of_an_unfinished_task_is_409(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, {"sleep": 3, **WITH_RESULT})
    assert_problem(await bob.get(f"{task_url(task_id)}/result"), 409, "Conflict")


async def test_status_goes_from_waiting_or_running_to_success(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, {"sleep": 1.5})
    first = (await bob.get(task_url(task_id))).json()
    assert first["status"] in ("Waiting", "Running")
    await wait_status(bob, task_id, "Running")
    await wait_status(bob, task_id, "Success")


async def test_failed_task_carries_the_error_message(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, {"fail": "final"})
    task = await wait_status(bob, task_id, "Failed")
    assert "the handler gave up" in task["error"]


async def test_result_link_appears_once_the_result_exists(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, {"sleep": 1.5, **WITH_RESULT})
    running = await wait_status(bob, task_id, "Waiting", "Running")
    assert "_links" not in running
    done = await wait_status(bob, task_id, "Success")
    href = done["_links"]["result"]["href"]
    assert href == f"{task_url(task_id)}/result"
    assert (await bob.get(href)).content == b"a;b\n1;2\n"


async def test_task_without_result_has_no_link_and_its_result_is_404(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client)
    task = await wait_status(bob, task_id, "Success")
    assert "_links" not in task
    assert_problem(await bob.get(f"{task_url(task_id)}/result"), 404, "Not Found")


async def test_task_read_under_another_project_is_404(stack, tasklane_client) -> None:
    task_id = await start(tasklane_client, user="acme user")
    async with stack.client("acme") as acme:  # may see every project of acme
        assert (await acme.get(task_url(task_id))).status_code == 200
        assert_problem(await acme.get(task_url(task_id, OTHER_PROJECT)), 404, "Not Found")


async def test_task_of_a_project_outside_the_key_is_404(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client, project=OTHER_PROJECT)
    assert_problem(await bob.get(task_url(task_id, OTHER_PROJECT)), 404, "Not Found")


@pytest.mark.parametrize("bad_id", ["nope", "0" * 31, "g" * 32])
async def test_malformed_id_is_404(bob, bad_id: str) -> None:
    assert_problem(await bob.get(task_url(bad_id)), 404, "Not Found")


async def test_other_dialects_id_forms_are_404(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client)
    dashed = str(uuid.UUID(hex=task_id))
    assert_problem(await bob.get(task_url(f"task_{task_id}")), 404, "Not Found")
    assert_problem(await bob.get(task_url(dashed)), 404, "Not Found")


async def test_id_is_read_in_any_case(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client)
    task = (await bob.get(task_url(task_id.upper()))).json()
    assert task["id"] == task_id


async def test_unknown_id_is_404(bob) -> None:
    assert_problem(await bob.get(task_url(uuid.uuid4().hex)), 404, "Not Found")
    assert_problem(await bob.get(f"{task_url(uuid.uuid4().hex)}/result"), 404, "Not Found")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
async def test_missing_or_wrong_key_is_401(stack, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as client:
        response = await client.get(task_url(uuid.uuid4().hex))
    assert_problem(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_dates_are_utc_with_seven_fractional_digits(bob, tasklane_client) -> None:
    task_id = await start(tasklane_client)
    task = await wait_status(bob, task_id, "Success")
    assert METAVAULT_TIME.match(task["creationDate"])
    assert METAVAULT_TIME.match(task["lastUpdateDate"])
    assert task["lastUpdateDate"] > task["creationDate"]
