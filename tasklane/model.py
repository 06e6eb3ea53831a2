"""The canonical task, shared by `api/` and `workflows/`.

A task lives only in Temporal: its spec (what the client asked for) is the workflow input
and a static memo entry; its state (what has happened) is a memo entry and a few search
attributes that the workflow rewrites at every transition. Dialects render these two.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tasklane.url_groups import group_name_of


class Status(StrEnum):
    SCHEDULED = "scheduled"
    SUSPENDED = "suspended"
    QUEUED = "queued"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset(
    {Status.COMPLETED, Status.FAILED, Status.ABANDONED, Status.CANCELLED, Status.EXPIRED}
)

# The notification event each status change emits; `retrying` and `scheduled` emit none,
# and an abandoned task (dead letter) is reported as `task.failed` with its own status.
EVENT_FOR_STATUS: dict[Status, str] = {
    Status.QUEUED: "task.queued",
    Status.PROCESSING: "task.processing",
    Status.COMPLETED: "task.completed",
    Status.FAILED: "task.failed",
    Status.ABANDONED: "task.failed",
    Status.CANCELLED: "task.cancelled",
    Status.EXPIRED: "task.expired",
}
TASK_EVENTS = frozenset(EVENT_FOR_STATUS.values())
GROUP_EVENTS = frozenset(
    {
        "group.first_failed",
        "group.all_completed",
        "group.all_failed",
        "group.partial_completion",
        "group.task_cancelled",
        "group.task_expired",
    }
)

WORKFLOW_TYPE = "TaskWorkflow"
TASK_TYPE_HTTP = "http"
# How an attempt runs: the built-in HTTP call, or a Python handler registered on a worker.
HANDLER_HTTP = "http"
HANDLER_PYTHON = "python"
# The error a dependent ends with when one of its blocking tasks did not succeed.
BLOCKER_FAILED = "blocker-failed"
# The errors a group task ends with: no group of its name when it became due; every child
# failed.
GROUP_NOT_FOUND = "group_not_found"
GROUP_ALL_FAILED = "group_all_failed"
DEFAULT_RESULT_RETENTION_S = 3600.0


@dataclass
class HttpTarget:
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class NotificationEndpoint:
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    # None = every event.
    events: list[str] | None = None

    def wants(self, event: str) -> bool:
        return self.events is None or event in self.events


@dataclass
class RetryPolicy:
    """How the workflow spaces attempts. `taskhook` is the default schedule of the seed."""

    max_attempts: int = 25
    backoff: str = "taskhook"  # taskhook | exponential | fixed
    initial_delay_s: float = 1.0
    max_delay_s: float | None = None  # None = no cap


@dataclass
class TaskError:
    code: str
    message: str
    status_code: int | None = None


@dataclass
class TaskScope:
    """Who and what the task is about, beyond its organisation (ricloud's source, session
    and poll, a System tasks client account, a Metavault project). All optional."""

    client_account: int | None = None
    project: str | None = None
    source: str | None = None
    session: str | None = None
    poll: str | None = None
    source_type: str | None = None
    # The highest-level argument of the task (ricloud's string `target`).
    subject: str | None = None


@dataclass
class ResultInfo:
    """One published result; its bytes stay in the attempt's history (see TaskStore)."""

    id: str
    content_type: str
    md5: str
    size: int
    created_at: datetime
    identifier: str | None = None
    consumed_at: datetime | None = None


@dataclass
class TaskSpec:
    """What the client asked for; never changes after submit."""

    task_id: str
    organisation: str
    key_id: str
    created_at: datetime
    execute_after: datetime
    # None for a Python-handler task: its type says what runs.
    target: HttpTarget | None
    type: str = TASK_TYPE_HTTP
    user: str | None = None
    payload: Any = None
    notifications: list[NotificationEndpoint] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    unique_id: str | None = None
    expires_at: datetime | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 30.0
    handler: str = HANDLER_HTTP
    # The queue the handler's attempts run on (a team's own worker); None = the task's queue.
    handler_queue: str | None = None
    scope: TaskScope = field(default_factory=TaskScope)
    # Task ids (Taskhook form) that must all complete before this task may run.
    blocked_by: list[str] = field(default_factory=list)
    result_retention_s: float = DEFAULT_RESULT_RETENTION_S
    max_result_bytes: int = 1024 * 1024
    max_results: int = 100
    # How long the running view may keep the task without a heartbeat (System tasks).
    ttl_s: float | None = None
    # The target comes from the operator's own config (a task type), not from a client, so
    # the private-address guard does not apply to it.
    trusted_target: bool = False
    # Set on the child tasks of a group task: the group task's id.
    parent_id: str | None = None

    @property
    def group_name(self) -> str | None:
        """The URL group a group task fans out to (`target: "group:<name>"`), else None."""
        return group_name_of(self.target.url) if self.target else None


@dataclass
class GroupInfo:
    """How a group task's children stand: `failed` counts every child that did not
    complete (failed, abandoned, cancelled or expired)."""

    total_tasks: int
    completed: int = 0
    failed: int = 0

    @property
    def remaining(self) -> int:
        return self.total_tasks - self.completed - self.failed

    def as_dict(self) -> dict[str, int]:
        """The seed's `group_info` object."""
        return {
            "total_tasks": self.total_tasks,
            "completed": self.completed,
            "failed": self.failed,
            "remaining": self.remaining,
        }


@dataclass
class TaskState:
    """What has happened to the task so far; rewritten at every transition."""

    status: Status
    updated_at: datetime
    previous_status: Status | None = None
    attempts: int = 0
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: TaskError | None = None
    # What a Python handler returned, and the results it published.
    result_meta: dict[str, Any] | None = None
    results: list[ResultInfo] = field(default_factory=list)
    # A group task's children, once it has fanned out.
    group_info: GroupInfo | None = None


@dataclass
class LiveFields:
    """What the search attributes say now (they move at every transition)."""

    status: Status
    attempts: int
    started_at: datetime | None
    completed_at: datetime | None


# Transitions that write only search attributes: the memo snapshot keeps what came before.
SEARCH_ATTRIBUTES_ONLY = frozenset({Status.PROCESSING, Status.COMPLETED})


def merge_live(snapshot: TaskState, live: LiveFields) -> TaskState:
    """The memo's snapshot brought up to date with the search attributes.

    Each memo write costs Temporal a visibility write of its own, so the workflow writes the
    memo only when a transition carries what search attributes cannot hold (an error, the
    next attempt's time, a failure or cancellation). An attempt starting and a task
    completing move only the search attributes; this puts the two back together.
    """
    if live.status not in SEARCH_ATTRIBUTES_ONLY or (
        live.status == snapshot.status and live.attempts == snapshot.attempts
    ):
        return snapshot
    # The attempt started when it was due: at the first start, or at the planned retry time.
    last_attempt_at = (
        live.started_at if live.attempts == 1 else snapshot.next_attempt_at
    ) or snapshot.last_attempt_at
    completed = live.status == Status.COMPLETED
    previous = Status.PROCESSING if completed else snapshot.status
    if previous in (Status.SCHEDULED, Status.QUEUED):
        previous = Status.QUEUED
    return replace(
        snapshot,
        status=live.status,
        previous_status=previous,
        attempts=live.attempts,
        started_at=live.started_at,
        last_attempt_at=last_attempt_at,
        next_attempt_at=None,
        completed_at=live.completed_at if completed else None,
        updated_at=(live.completed_at if completed else last_attempt_at) or snapshot.updated_at,
        error=None if completed else snapshot.error,
    )


@dataclass
class TaskInput:
    spec: TaskSpec
    state: TaskState


@dataclass
class TaskOutcome:
    status: Status
    attempts: int
    error: TaskError | None = None


@dataclass
class CancelRequest:
    reason: str = "cancelled by the client"


@dataclass
class ChildNotCancelled:
    task_id: str
    reason: str


@dataclass
class CancelResult:
    status: Status
    # A group task's children: those cancelled with it, and those that would not be
    # (mid-attempt), which go on to their own end.
    children_cancelled: list[str] = field(default_factory=list)
    children_not_cancelled: list[ChildNotCancelled] = field(default_factory=list)


@dataclass
class DependentRequest:
    """A suspended task asks its blocker to tell it how the blocker ends."""

    task_id: str


@dataclass
class BlockerOutcome:
    task_id: str
    status: Status
    note: str | None = None  # why a blocker that cannot be read counts as failed


@dataclass
class AckRequest:
    result_id: str


# Memo keys: the spec is written once at start, the state at every transition.
MEMO_SPEC = "spec"
MEMO_STATE = "state"


def initial_state(spec: TaskSpec, now: datetime) -> TaskState:
    """Where a new task starts: waiting for its blockers, for its time, or due."""
    if spec.blocked_by:
        status = Status.SUSPENDED
    elif spec.execute_after > now:
        status = Status.SCHEDULED
    else:
        status = Status.QUEUED
    return TaskState(status=status, updated_at=now)
