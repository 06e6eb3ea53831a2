"""What the running view holds and what workflows pass about it: plain data, importable by
workflow code (no Redis client here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class RunningEntry:
    """What `GET /api/v2/system-tasks` lists for one task."""

    task_id: str
    client_account: int
    task_type: str
    started_at: str  # ISO 8601 with +00:00, as the seed prints it
    meta: Any = field(default_factory=dict)
    # Account numbers are each organisation's own: every read filters on this.
    organisation: str = ""


# A task type without a TTL (the seed's AMELDING_SUBMIT "varies") is listed this long
# unless its attempt keeps it alive.
DEFAULT_TTL_S = 600.0


def started_at(execute_after: datetime, blocked: bool, now: datetime) -> str:
    """When a system task began running, as listed: when it became due (for a task that
    waited on blockers, when they let it go), to the second, in the seed's `+00:00` form."""
    return (now if blocked else execute_after).astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class RunningRef:
    """Which view entry an attempt keeps alive, and for how long each refresh holds."""

    client_account: int
    task_id: str
    ttl_s: float


@dataclass
class RunningStarted:
    entry: RunningEntry
    ttl_s: float
    # False when only the TTL is extended (a retry wait): the event went out already.
    announce: bool = True


@dataclass
class RunningEnded:
    client_account: int
    task_id: str
    # `completed` or `failed`, as the seed's update_system_task says.
    status: str
    result_meta: dict[str, Any] | None = None
    organisation: str = ""
