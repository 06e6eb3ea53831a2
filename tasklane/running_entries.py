"""What the running view holds and what workflows pass about it: plain data, importable by
workflow code (no Redis client here)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
