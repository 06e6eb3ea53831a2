"""Temporal visibility queries over task search attributes, shared by every list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tasklane import search_attributes as sa
from tasklane.model import FINISHED, WORKFLOW_TYPE, Status

# Workflows an operator stopped, or that failed outside the task's own logic: their last
# TaskStatus is stale, and they read as cancelled or failed (see TaskStore._settle).
_STOPPED_BY_OPERATOR = ("Terminated", "Canceled")
_STOPPED_OTHERWISE = ("Failed", "TimedOut")
COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def tasks_of(organisation: str) -> list[str]:
    return [f"WorkflowType = {quote(WORKFLOW_TYPE)}", f"{sa.TASK_ORG.name} = {quote(organisation)}"]


def visible_to(client_accounts: list[int] | None, projects: list[str] | None) -> list[str]:
    """Clauses for a key limited to some client accounts or projects (see ApiKey.may_see)."""
    clauses = []
    for name, allowed in (("client_account", client_accounts), ("project", projects)):
        if allowed is not None:
            values = [sa.label(name, v) for v in [*allowed, sa.NO_SCOPE]]
            clauses.append(_in(sa.TASK_LABELS.name, values))
    return clauses


def labelled(name: str, value: object) -> str:
    return f"{sa.TASK_LABELS.name} = {quote(sa.label(name, value))}"


def compare(attribute: str, op: str, moment: datetime) -> str:
    """A comparison of a `Task*Ms` attribute (Unix milliseconds) with `moment`."""
    return f"{attribute} {COMPARISONS[op]} {sa.epoch_ms(moment)!r}"


def status_in(statuses: Iterable[Status]) -> str:
    """Tasks whose status, as reads report it, is one of `statuses`."""
    wanted = set(statuses)
    live = sorted(s.value for s in wanted if not s.finished)
    done = sorted(s.value for s in wanted if s.finished)
    unfinished = ", ".join(quote(s) for s in sorted(s.value for s in Status if s not in FINISHED))
    parts = []
    if live:
        parts.append(f"({_in(sa.TASK_STATUS.name, live)} AND ExecutionStatus = 'Running')")
    if done:
        parts.append(_in(sa.TASK_STATUS.name, done))
    stopped: list[str] = []
    if Status.CANCELLED in wanted:
        stopped += _STOPPED_BY_OPERATOR
    if Status.FAILED in wanted:
        stopped += _STOPPED_OTHERWISE
    if stopped:
        parts.append(
            f"({_in('ExecutionStatus', stopped)} AND {sa.TASK_STATUS.name} IN ({unfinished}))"
        )
    return "(" + " OR ".join(parts) + ")" if parts else "WorkflowId = ''"


def _in(attribute: str, values: Iterable[str]) -> str:
    return f"{attribute} IN ({', '.join(quote(v) for v in values)})"
