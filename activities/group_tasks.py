"""What a group task asks of Temporal beyond its own workflow: the URLs of its group when it
becomes due, and the cancellation of its children."""

# No `from __future__ import annotations`: the workflow decodes this module's results inside
# Temporal's sandbox, where string annotations may not resolve.

import asyncio
from dataclasses import dataclass, field

from temporalio import activity

from tasklane.errors import NotCancellable, NoWorker
from tasklane.group_store import GroupStore
from tasklane.model import ChildNotCancelled
from tasklane.task_store import TaskStore, describe_task


@dataclass
class GroupLookup:
    organisation: str
    name: str


@dataclass
class GroupUrls:
    """The group's URLs at this moment; no id when there is no group of that name."""

    group_id: str | None
    urls: list[str] = field(default_factory=list)


@dataclass
class ChildrenToCancel:
    task_ids: list[str]


@dataclass
class ChildrenCancelled:
    cancelled: list[str]
    not_cancelled: list[ChildNotCancelled]


@activity.defn(name="resolve_url_group")
async def resolve_url_group(lookup: GroupLookup) -> GroupUrls:
    # This activity runs on the group task's own queue, where the organisation's registry is.
    group = await GroupStore(activity.client(), activity.info().task_queue).named(
        lookup.organisation, lookup.name
    )
    return GroupUrls(group.id, group.urls) if group else GroupUrls(None)


@activity.defn(name="cancel_group_children")
async def cancel_group_children(request: ChildrenToCancel) -> ChildrenCancelled:
    """Ask each child to cancel, as a DELETE would; a child mid-attempt refuses."""
    client = activity.client()
    store = TaskStore(client, activity.info().task_queue)

    async def cancel(task_id: str) -> ChildNotCancelled | None:
        view = await describe_task(client, task_id)
        if view is None:
            return ChildNotCancelled(task_id, "the task no longer exists")
        try:
            await store.cancel(view)
        except (NotCancellable, NoWorker) as e:
            return ChildNotCancelled(task_id, e.message)
        return None

    refusals = await asyncio.gather(*map(cancel, request.task_ids))
    not_cancelled = [r for r in refusals if r is not None]
    refused = {r.task_id for r in not_cancelled}
    return ChildrenCancelled([t for t in request.task_ids if t not in refused], not_cancelled)
