"""TasklaneClient: the Python API a host application uses to start and follow tasks.

"Some API calls are simply asynchronous and return a task id" (Metavault): the host starts a
task of a registered type for one of its users and hands the id back to its client, which
then follows it through any dialect.

    tasks = TasklaneClient(temporal_client, task_types=[TaskType("DEPLOY", handler=deploy)])
    task_id = await tasks.start("DEPLOY", organisation="acme", user="Bob Marley",
                                project="a88f74e314fe4a326ce78aee7702d292", payload={...})
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from tasklane.config import TasklaneConfig
from tasklane.errors import InvalidTask, TaskNotFound
from tasklane.ids import parse_task_id
from tasklane.model import Status, TaskScope
from tasklane.result_store import ResultStore, ResultView, results_of
from tasklane.task_store import TaskStore, TaskView, describe_task
from tasklane.task_types import TaskType
from tasklane.typed_tasks import new_typed_task

# The `key` recorded on tasks started from Python rather than through an API key.
PYTHON_KEY_ID = "python-api"


class TasklaneClient:
    def __init__(
        self,
        client: Client,
        *,
        config: TasklaneConfig | None = None,
        task_types: list[TaskType] | None = None,
        task_queue: str = "tasklane",
        cancel_wait_s: float = 10.0,
    ) -> None:
        self.types = (config or TasklaneConfig()).types.with_types(task_types or [])
        self._store = TaskStore(client, task_queue, cancel_wait_s)
        self._results = ResultStore(self._store)

    async def start(
        self,
        task_type: str,
        *,
        organisation: str,
        user: str | None = None,
        payload: Any = None,
        scope: TaskScope | None = None,
        client_account: int | None = None,
        project: str | None = None,
        blocked_by: list[str] | None = None,
        execute_after: datetime | None = None,
    ) -> str:
        """Start a task of `task_type`; its id (`task_<hex>`, accepted in every form)."""
        found = self.types.get(task_type)
        if found is None:
            raise InvalidTask(f"unknown task type {task_type!r}", field="type")
        scope = scope or TaskScope()
        if client_account is not None:
            scope.client_account = client_account
        if project is not None:
            scope.project = project
        blockers = [_task_id(b) for b in blocked_by or []]
        spec, state = new_typed_task(
            found,
            organisation=organisation,
            key_id=PYTHON_KEY_ID,
            now=datetime.now(UTC),
            user=user,
            scope=scope,
            payload=payload,
            blocked_by=blockers,
            execute_after=execute_after,
        )
        if spec.blocked_by:
            await self._store.check_blockers(spec)
        await self._store.submit(spec, state)
        return spec.task_id

    async def get(self, task_id: str) -> TaskView:
        """The task as every dialect reads it."""
        view = await describe_task(self._store.client, _task_id(task_id))
        if view is None:
            raise TaskNotFound(f"no task {task_id}")
        return view

    async def cancel(self, task_id: str) -> Status:
        """Cancel between attempts; NotCancellable says why not."""
        result = await self._store.cancel(await self.get(task_id))
        return result.status

    async def results(self, task_id: str) -> list[ResultView]:
        return results_of(await self.get(task_id))

    async def result_data(self, task_id: str, result_id: str | None = None) -> bytes:
        """The bytes of a result (the first one when no id is given)."""
        results = await self.results(task_id)
        chosen = next((r for r in results if result_id in (None, r.info.id)), None)
        if chosen is None:
            raise TaskNotFound(f"task {task_id} has no result {result_id or ''}".strip())
        return await self._results.data(chosen)

    async def ack(self, task_id: str, result_id: str) -> ResultView:
        results = await self.results(task_id)
        chosen = next((r for r in results if r.info.id == result_id), None)
        if chosen is None:
            raise TaskNotFound(f"task {task_id} has no result {result_id}")
        await self._results.ack(chosen)
        return next(r for r in await self.results(task_id) if r.info.id == result_id)


def _task_id(text: str) -> str:
    task_id = parse_task_id(text)
    if task_id is None:
        raise TaskNotFound(f"{text!r} is not a task id")
    return task_id
