"""Errors of the task store and the Python API; the REST dialects map them to their shapes."""

from __future__ import annotations


class TasklaneError(Exception):
    """Base of every error the task store raises for a caller to act on."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TaskNotFound(TasklaneError):
    """No such task, or not one the caller may see."""


class NotCancellable(TasklaneError):
    """The workflow refused the cancellation (finished, or mid-attempt)."""


class ResultNotAvailable(TasklaneError):
    """The result exists but can no longer be read or acknowledged (retention passed)."""


class InvalidTask(TasklaneError):
    """The task cannot be created as asked (unknown type, unknown blocker, a cycle)."""


class NoWorker(TasklaneError):
    """No worker answered in time; nothing changed."""


class GroupNotFound(TasklaneError):
    """No such URL group in the caller's organisation."""


class GroupConflict(TasklaneError):
    """Another URL group of the organisation already has that name."""


class GroupsUnavailable(TasklaneError):
    """The organisation's registry could not answer (its workflow is failing)."""


class GroupsFull(TasklaneError):
    """The organisation has as many URL groups (or URL bytes) as it may."""
