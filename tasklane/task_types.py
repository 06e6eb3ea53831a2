"""Task types: what a typed task runs, with its TTL, retry policy and timeout.

Types come from the config file (`[[task_types]]`) and from code (`TaskType(...)` handed to
`TasklanePlugin` and `TasklaneClient`). A type's handler is the built-in HTTP call to the
type's URL, or a Python callable (`package.module:function` in config, the function itself
in code) that runs on the workers that registered it.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field

from tasklane.handlers import Handler
from tasklane.model import DEFAULT_RESULT_RETENTION_S, HANDLER_HTTP, HANDLER_PYTHON, HttpTarget
from tasklane.model import RetryPolicy as TaskRetryPolicy

DEFAULT_HANDLER_TIMEOUT_S = 600.0


@dataclass
class TaskType:
    name: str
    # A callable, a "package.module:function" reference, or "http".
    handler: Handler | str = HANDLER_HTTP
    url: str | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    ttl_s: float | None = None
    retry: TaskRetryPolicy = field(default_factory=TaskRetryPolicy)
    timeout_s: float | None = None
    # Run this type's attempts on another task queue (a team's own workers).
    task_queue: str | None = None
    result_retention_s: float = DEFAULT_RESULT_RETENTION_S
    max_result_bytes: int = 1024 * 1024
    max_results: int = 100

    def __post_init__(self) -> None:
        if self.handler == HANDLER_HTTP and not self.url:
            raise ValueError(f"task type {self.name}: an http handler needs a url")
        if callable(self.handler) and not inspect.iscoroutinefunction(self.handler):
            raise TypeError(f"task type {self.name}: the handler must be an async function")

    @property
    def kind(self) -> str:
        return HANDLER_HTTP if self.handler == HANDLER_HTTP else HANDLER_PYTHON

    @property
    def target(self) -> HttpTarget | None:
        if self.kind != HANDLER_HTTP or self.url is None:
            return None
        return HttpTarget(self.url, self.method, dict(self.headers))

    @property
    def attempt_timeout_s(self) -> float:
        if self.timeout_s is not None:
            return self.timeout_s
        return 30.0 if self.kind == HANDLER_HTTP else DEFAULT_HANDLER_TIMEOUT_S

    def load_handler(self) -> Handler:
        """The handler callable, importing a `package.module:function` reference."""
        if callable(self.handler):
            return self.handler
        module_name, _, attribute = self.handler.partition(":")
        if not module_name or not attribute:
            raise ValueError(
                f"task type {self.name}: handler must be 'http' or 'package.module:function'"
            )
        function = getattr(importlib.import_module(module_name), attribute)
        if not inspect.iscoroutinefunction(function):
            raise TypeError(f"task type {self.name}: {self.handler} must be an async function")
        return function  # type: ignore[no-any-return]


class TaskTypes:
    """The types one process knows, by name; a later definition of a name wins."""

    def __init__(self, types: list[TaskType]) -> None:
        self._by_name = {t.name: t for t in types}

    def with_types(self, more: list[TaskType]) -> TaskTypes:
        """These types and `more`, which win on a name clash."""
        return TaskTypes([*self._by_name.values(), *more])

    def get(self, name: str) -> TaskType | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    def handlers(self) -> dict[str, Handler]:
        """Every Python handler, imported (a worker calls this once at start)."""
        return {t.name: t.load_handler() for t in self._by_name.values() if t.kind != HANDLER_HTTP}
