"""Settings from the environment and the TOML config file, built once per process.

The environment says where things are (Temporal, Redis, the config file); the TOML file says
who may call and what they may do (API keys, signing secrets, task types, limits). Workflows
never read either: what they need travels in their input.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tasklane.model import RetryPolicy, TaskSpec
from tasklane.task_types import TaskType, TaskTypes
from tasklane.times import parse_duration

log = logging.getLogger("tasklane.config")


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_sha256: str
    organisation: str
    user: str | None = None
    client_accounts: list[int] | None = None  # None = every account of the organisation
    projects: list[str] | None = None  # None = every project of the organisation

    @field_validator("token_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("must be the hex SHA-256 of the token (64 hex digits)")
        return value

    @property
    def key_id(self) -> str:
        """A stable, non-secret name for the key (the ricloud `key`)."""
        return self.token_sha256[:12]

    def may_see(self, spec: TaskSpec) -> bool:
        """Its organisation's tasks, within its client accounts and projects when it is
        limited to some; a task of no account or project is the whole organisation's."""
        if spec.organisation != self.organisation:
            return False
        account, project = spec.scope.client_account, spec.scope.project
        if account is not None and self.client_accounts is not None:
            if account not in self.client_accounts:
                return False
        return project is None or self.projects is None or project in self.projects


class SigningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The first secret signs; every secret signs during a rotation, so receivers holding
    # either the old or the new one accept the message.
    secrets: list[str] = Field(default_factory=list)


class ResultsConfig(BaseModel):
    """Where results of Python handlers are kept: with the task, in its Temporal history."""

    model_config = ConfigDict(extra="forbid")

    retention: str = "PT1H"  # after the task finishes; then results read as expired (410)
    # Results travel in one activity result, which Temporal caps at 2 MB (base64 adds a third).
    max_bytes: int = Field(default=1024 * 1024, ge=0, le=1_400_000)
    max_count: int = Field(default=100, ge=0, le=1000)

    @field_validator("retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def retention_s(self) -> float:
        return parse_duration(self.retention).total_seconds()


class TaskRetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=25, ge=1, le=1000)
    backoff: Literal["taskhook", "exponential", "fixed"] = "taskhook"
    initial_delay: float = Field(default=1.0, ge=0)
    max_delay: float | None = Field(default=None, ge=0)


class TaskTypeConfig(BaseModel):
    """One `[[task_types]]` entry. Unknown keys are logged and ignored: operators' files
    written for other versions keep loading."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _warn_unknown(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                log.warning("task type %s: ignoring unknown keys %s", data.get("name"), unknown)
        return data

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")
    handler: str = "http"  # or "package.module:function"
    url: str | None = None
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    ttl: str | None = None  # ISO 8601 duration; absent = per task
    retry: TaskRetryConfig = Field(default_factory=TaskRetryConfig)
    timeout: str | None = None  # per attempt, ISO 8601 duration
    task_queue: str | None = None
    result_retention: str | None = None  # default: [results] retention

    @field_validator("ttl", "timeout", "result_retention")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _http_needs_url(self) -> TaskTypeConfig:
        if self.handler == "http" and not self.url:
            raise ValueError(f"task type {self.name}: handler 'http' needs a url")
        if self.handler != "http" and ":" not in self.handler:
            raise ValueError(
                f"task type {self.name}: handler must be 'http' or 'package.module:function'"
            )
        return self

    def to_task_type(self, results: ResultsConfig) -> TaskType:
        retention = self.result_retention or results.retention
        return TaskType(
            name=self.name,
            handler=self.handler,
            url=self.url,
            method=self.method.upper(),
            headers=self.headers,
            ttl_s=_seconds(self.ttl),
            retry=RetryPolicy(
                max_attempts=self.retry.max_attempts,
                backoff=self.retry.backoff,
                initial_delay_s=self.retry.initial_delay,
                max_delay_s=self.retry.max_delay,
            ),
            timeout_s=_seconds(self.timeout),
            task_queue=self.task_queue,
            result_retention_s=parse_duration(retention).total_seconds(),
            max_result_bytes=results.max_bytes,
            max_results=results.max_count,
        )


def _seconds(duration: str | None) -> float | None:
    return None if duration is None else parse_duration(duration).total_seconds()


class Limits(BaseModel):
    """Input limits; every one is answered with 413 or 422 naming the field."""

    model_config = ConfigDict(extra="forbid")

    max_body_bytes: int = 1024 * 1024
    max_payload_bytes: int = 256 * 1024
    max_url_length: int = 2048
    max_headers: int = 32
    max_header_bytes: int = 8192
    max_tags: int = 20
    max_tag_length: int = 64
    max_notifications: int = 10
    max_unique_id_length: int = 256
    max_delay_s: float = 365 * 86400.0
    max_timeout_s: float = 3600.0
    max_attempts: int = 50
    max_blockers: int = 20
    # URL groups: a group task starts one child workflow per URL.
    max_group_urls: int = 100
    max_url_groups: int = 100
    max_group_description: int = 1000
    # The payload travels in every attempt and every notification: its size times their
    # number must stay well inside Temporal's 50 MB history limit.
    max_task_history_bytes: int = 16 * 1024 * 1024


class PusherConfig(BaseModel):
    """`[pusher]`: System tasks' events also go to Pusher (SPEC §4.4) when this is set."""

    model_config = ConfigDict(extra="forbid")

    app_id: str = Field(pattern=r"^[0-9]+$")  # the library accepts numeric app ids only
    key: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    cluster: str | None = None  # e.g. "eu": api-eu.pusher.com
    host: str | None = None  # overrides cluster (a local stand-in, a proxy)
    port: int | None = Field(default=None, ge=1, le=65535)
    ssl: bool = True

    @field_validator("app_id", mode="before")
    @classmethod
    def _app_id_text(cls, value: Any) -> Any:
        # Pusher's dashboard shows it as a number: `app_id = 123456` in TOML is fine too.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TasklaneConfig(BaseModel):
    """The TOML file (SPEC §3). Unknown top-level sections are kept for later features."""

    model_config = ConfigDict(extra="allow")

    allow_private_targets: bool = False
    api_keys: list[ApiKey] = Field(default_factory=list)
    signing: SigningConfig = Field(default_factory=SigningConfig)
    task_types: list[TaskTypeConfig] = Field(default_factory=list)
    results: ResultsConfig = Field(default_factory=ResultsConfig)
    limits: Limits = Field(default_factory=Limits)
    pusher: PusherConfig | None = None

    @classmethod
    def load(cls, path: Path | None) -> TasklaneConfig:
        if path is None:
            return cls()
        with path.open("rb") as f:
            return cls.model_validate(tomllib.load(f))

    @cached_property
    def _keys_by_hash(self) -> dict[str, ApiKey]:
        return {key.token_sha256: key for key in self.api_keys}

    @cached_property
    def types(self) -> TaskTypes:
        """The task types of this file (handlers are imported only by workers)."""
        return TaskTypes([t.to_task_type(self.results) for t in self.task_types])

    def authenticate(self, token: str) -> ApiKey | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        return self._keys_by_hash.get(digest)


class Settings(BaseSettings):
    """Process settings, from `TASKLANE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="TASKLANE_", extra="ignore")

    config: Path | None = None
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    task_queue: str = "tasklane"
    redis_url: str = "redis://localhost:6379/0"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # How long DELETE waits for a worker to take the cancellation before answering 503.
    cancel_wait_s: float = 10.0
    # Worker knobs.
    max_concurrent_activities: int = 200
    max_concurrent_workflow_tasks: int = 100
    graceful_shutdown_s: float = 30.0
    # How long a workflow task waits on a worker's own (sticky) queue before any worker may
    # take it; Temporal's default is 10 s, which a dead worker adds to its tasks' take-over.
    sticky_timeout_s: float = 3.0
    # How often a worker rebuilds the System tasks running view from Temporal.
    reconcile_every_s: float = 30.0
    # Run workflows in Temporal's sandbox (tests do; see worker/main.py for why workers don't).
    workflow_sandbox: bool = False
    # A worker serves Prometheus metrics (the SDK's, and tasks finished) on this port; off
    # when unset, so several workers on one machine do not collide.
    worker_metrics_port: int | None = None
    # `json` (one object per line, with task_id) or `text`, for `tasklane api` and `worker`.
    log_format: Literal["json", "text"] = "json"
    # OpenTelemetry traces of the API and the workers (tasklane/tracing.py).
    otel_enabled: bool = False
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 - a metrics port is meant to be scraped

    @cached_property
    def tasklane(self) -> TasklaneConfig:
        return TasklaneConfig.load(self.config)
