"""URL groups as the API and the fan-out read and change them: updates and a query on the
organisation's registry workflow (workflows/url_group_registry.py)."""

from __future__ import annotations

import asyncio

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from tasklane.errors import (
    GroupConflict,
    GroupNotFound,
    GroupsFull,
    GroupsUnavailable,
    NoWorker,
    TasklaneError,
)
from tasklane.url_groups import (
    GROUP_NAME_TAKEN,
    GROUP_NOT_FOUND,
    REGISTRY_FULL,
    REGISTRY_WORKFLOW_TYPE,
    GroupChange,
    GroupRef,
    NewGroup,
    RegistryInput,
    UrlGroup,
    registry_id,
)

# The registry's refusals, as the errors the API maps, with the field each one is about.
_REFUSALS: dict[str, tuple[type[TasklaneError], str | None]] = {
    GROUP_NOT_FOUND: (GroupNotFound, None),
    GROUP_NAME_TAKEN: (GroupConflict, "name"),
    REGISTRY_FULL: (GroupsFull, None),
}


class GroupStore:
    def __init__(self, client: Client, task_queue: str, wait_s: float = 10.0) -> None:
        self.client = client
        self.task_queue = task_queue
        # Updates and queries need a worker: with none, the SDK would wait forever.
        self.wait_s = wait_s

    async def create(self, organisation: str, request: NewGroup) -> UrlGroup:
        # The registry starts with the organisation's first group; starting an existing one
        # is a no-op (USE_EXISTING), so concurrent first creates cannot make two.
        await self.client.start_workflow(
            REGISTRY_WORKFLOW_TYPE,
            RegistryInput(organisation),
            id=registry_id(self.task_queue, organisation),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"URL groups of {organisation}",
        )
        return await self._update(organisation, "create", request)

    async def change(self, organisation: str, request: GroupChange) -> UrlGroup:
        return await self._update(organisation, "change", request)

    async def delete(self, organisation: str, group_id: str) -> UrlGroup:
        return await self._update(organisation, "delete", GroupRef(group_id))

    async def all(self, organisation: str) -> list[UrlGroup]:
        """Every group of the organisation, oldest first."""
        handle = self.client.get_workflow_handle(registry_id(self.task_queue, organisation))
        try:
            async with asyncio.timeout(self.wait_s):
                return await handle.query("groups", result_type=list[UrlGroup])
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return []  # no group was ever created
            raise
        except (TimeoutError, RPCTimeoutOrCancelledError):
            raise NoWorker("no worker answered in time; retry") from None
        except WorkflowQueryFailedError as e:
            raise GroupsUnavailable(f"the URL groups cannot be read now: {e}") from None

    async def get(self, organisation: str, group_id: str) -> UrlGroup | None:
        return next((g for g in await self.all(organisation) if g.id == group_id), None)

    async def named(self, organisation: str, name: str) -> UrlGroup | None:
        return next((g for g in await self.all(organisation) if g.name == name), None)

    async def _update(self, organisation: str, update: str, request: object) -> UrlGroup:
        handle = self.client.get_workflow_handle(registry_id(self.task_queue, organisation))
        try:
            async with asyncio.timeout(self.wait_s):
                return await handle.execute_update(update, request, result_type=UrlGroup)
        except WorkflowUpdateFailedError as e:
            cause = e.cause
            if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
                error, field = _REFUSALS[cause.type]
                raise error(cause.message, field=field) from None
            raise
        except (TimeoutError, RPCTimeoutOrCancelledError):
            raise NoWorker("no worker answered in time; the group is unchanged, retry") from None
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise GroupNotFound("no such URL group") from None
            raise
