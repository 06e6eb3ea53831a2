"""One task read through every dialect: the same state, each in its own words (SPEC §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasklane.ids import as_hex, as_uuid
from tasklane.model import Status
from tests.conftest import PROJECT, eventually

BOB = "Bob Marley"
# canonical status → (Taskhook, ricloud state, ricloud error, Metavault)
WORDS = {
    Status.SCHEDULED: ("scheduled", "pending", None, "Waiting"),
    Status.SUSPENDED: ("suspended", "suspended", None, "Waiting"),
    Status.PROCESSING: ("processing", "processing", None, "Running"),
    Status.COMPLETED: ("completed", "succeeded", None, "Success"),
    Status.FAILED: ("failed", "failed", "ERR_HANDLER", "Failed"),
    Status.CANCELLED: ("cancelled", "failed", "cancelled", "Cancelled"),
}


@pytest.fixture
async def reads(stack):  # type: ignore[no-untyped-def]
    """Reads a task as Bob through the three dialects."""
    async with (
        stack.client("bob") as bearer,
        stack.client("bob", scheme="Token") as token,
    ):

        async def read(task_id: str) -> tuple[str, str, str | None, str]:
            taskhook = (await bearer.get(f"/v1/tasks/{task_id}")).json()
            ricloud = (await token.get(f"/tasks/{as_uuid(task_id)}")).json()
            path = f"/api/projects/{PROJECT}/tasks/{as_hex(task_id)}"
            metavault = (await bearer.get(path)).json()
            assert ricloud["id"] == as_uuid(task_id) and metavault["id"] == as_hex(task_id)
            return taskhook["status"], ricloud["state"], ricloud["error"], metavault["status"]

        yield read


async def start(tasklane_client, **kwargs):  # type: ignore[no-untyped-def]
    return await tasklane_client.start(
        "SCRIPTED", organisation="acme", user=BOB, project=PROJECT, **kwargs
    )


async def settled(reads, task_id: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    """All three dialects agree on `status` (polled: the task moves between reads)."""

    async def agree():  # type: ignore[no-untyped-def]
        return await reads(task_id) == WORDS[status]

    await eventually(agree)


async def test_waiting_states_read_alike(tasklane_client, reads) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await start(tasklane_client, execute_after=later)
    suspended = await start(tasklane_client, blocked_by=[scheduled])
    assert await reads(scheduled) == WORDS[Status.SCHEDULED]
    assert await reads(suspended) == WORDS[Status.SUSPENDED]
    await tasklane_client.cancel(suspended)
    await settled(reads, suspended, Status.CANCELLED)
    await tasklane_client.cancel(scheduled)


async def test_running_and_finished_states_read_alike(tasklane_client, reads) -> None:
    running = await start(tasklane_client, payload={"sleep": 3})
    await settled(reads, running, Status.PROCESSING)
    await settled(reads, running, Status.COMPLETED)
    failing = await start(tasklane_client, payload={"fail": "retryable"})
    await settled(reads, failing, Status.FAILED)
