"""URL groups: named lists of target URLs that a task fans out to (`target: "group:<name>"`).

Each organisation's groups live in one registry workflow (workflows/url_group_registry.py),
so they are as durable as its tasks and visible in the Web UI; the API changes them through
updates and reads them through a query.
"""

# No `from __future__ import annotations`: the registry decodes these types inside Temporal's
# sandbox, where string annotations may not resolve.

import re
from dataclasses import dataclass, field
from datetime import datetime

REGISTRY_WORKFLOW_TYPE = "UrlGroupRegistry"
GROUP_PREFIX = "group:"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
# The registry carries every group of the organisation across continue-as-new in one
# payload; Temporal refuses payloads over 2 MB.
MAX_REGISTRY_BYTES = 1536 * 1024

# Errors the registry answers updates with (ApplicationError types).
GROUP_NOT_FOUND = "GroupNotFound"
GROUP_NAME_TAKEN = "GroupNameTaken"
REGISTRY_FULL = "RegistryFull"


def registry_id(task_queue: str, organisation: str) -> str:
    """The registry of the organisation's groups on one task queue: the API and the workers
    of a deployment share a queue, so they meet there (and tests on queues of their own
    each have their own groups)."""
    return f"tasklane-url-groups:{task_queue}:{organisation}"


def group_name_of(url: str) -> str | None:
    """`invoice-processors` for the target `group:invoice-processors`, else None."""
    return url[len(GROUP_PREFIX) :] if url.startswith(GROUP_PREFIX) else None


@dataclass
class UrlGroup:
    id: str  # ug_<32 hex>
    name: str
    urls: list[str]
    created_at: datetime
    updated_at: datetime
    description: str | None = None


@dataclass
class RegistryInput:
    organisation: str
    groups: list[UrlGroup] = field(default_factory=list)


@dataclass
class NewGroup:
    name: str
    urls: list[str]
    description: str | None = None
    # The organisation's limit, from the API's config at the time of the request.
    max_groups: int = 100


@dataclass
class GroupChange:
    """A PATCH: only the fields that are set change."""

    group_id: str
    name: str | None = None
    urls: list[str] | None = None
    description: str | None = None
    set_description: bool = False


@dataclass
class GroupRef:
    group_id: str
