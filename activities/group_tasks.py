"""What a group task asks of Temporal beyond its own workflow: the URLs of its group when it
becomes due, and the cancellation of its children."""

# No `from __future__ import annotations`: the workflow decodes this module's results inside
# Temporal's sandbox, where string annotations may not resolve.

import asyncio
from dataclasses import dataclass, field

from temporalio import activity

from tasklane.errors import NotCancellable, NoWorker
from tasklane.group_store import GroupStore
from tasklane.model import BlockerOutcome, ChildNotCancelled, Status
from tasklane.task_store import TaskStore, describe_task

CHILD_CANCEL_WAIT_S = 5.0


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
    # Children found already ended, with how: one whose end never reached the group task
    # (terminated by an operator) is counted from this.
    ended: list[BlockerOutcome] = field(default_factory=list)


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
    # Well inside the group task's own cancel, which the API waits for.
    store = TaskStore(client, activity.info().task_queue, cancel_wait_s=CHILD_CANCEL_WAIT_S)
    ended: list[BlockerOutcome] = []

    async def cancel(task_id: str) -> ChildNotCancelled | None:
        view = await describe_task(client, task_id)
        if view is None:
            ended.append(BlockerOutcome(task_id, Status.FAILED, "the task no longer exists"))
            return ChildNotCancelled(task_id, "the task no longer exists")
        if view.state.status.finished:
            ended.append(BlockerOutcome(task_id, view.state.status))
            return ChildNotCancelled(task_id, f"the task is already {view.state.status.value}")
        try:
            await store.cancel(view)
        except (NotCancellable, NoWorker) as e:
            return ChildNotCancelled(task_id, e.message)
        except Exception as e:  # noqa: BLE001 - one child's trouble must not hide the others'
            return ChildNotCancelled(task_id, f"{type(e).__name__}: {e}")
        return None

    refusals = await asyncio.gather(*map(cancel, request.task_ids))
    not_cancelled = [r for r in refusals if r is not None]
    refused = {r.task_id for r in not_cancelled}
    cancelled = [t for t in request.task_ids if t not in refused]
    return ChildrenCancelled(cancelled, not_cancelled, ended)
