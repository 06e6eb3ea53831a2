"""Settings from the environment and the TOML config file, built once per process.

The environment says where things are (Temporal, Redis, the config file); the TOML file says
who may call and what they may do (API keys, signing secrets, task types, limits). Workflows
never read either: what they need travels in their input.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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


class SigningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The first secret signs; every secret signs during a rotation, so receivers holding
    # either the old or the new one accept the message.
    secrets: list[str] = Field(default_factory=list)


class TaskTypeConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    handler: str = "http"
    url: str | None = None
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    ttl: str | None = None


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
    # The payload travels in every attempt and every notification: its size times their
    # number must stay well inside Temporal's 50 MB history limit.
    max_task_history_bytes: int = 16 * 1024 * 1024


class TasklaneConfig(BaseModel):
    """The TOML file (SPEC §3). Unknown top-level sections are kept for later features."""

    model_config = ConfigDict(extra="allow")

    allow_private_targets: bool = False
    api_keys: list[ApiKey] = Field(default_factory=list)
    signing: SigningConfig = Field(default_factory=SigningConfig)
    task_types: list[TaskTypeConfig] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)

    @classmethod
    def load(cls, path: Path | None) -> TasklaneConfig:
        if path is None:
            return cls()
        with path.open("rb") as f:
            return cls.model_validate(tomllib.load(f))

    @cached_property
    def _keys_by_hash(self) -> dict[str, ApiKey]:
        return {key.token_sha256: key for key in self.api_keys}

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
    # Run workflows in Temporal's sandbox (tests do; see worker/main.py for why workers don't).
    workflow_sandbox: bool = False

    @cached_property
    def tasklane(self) -> TasklaneConfig:
        return TasklaneConfig.load(self.config)
