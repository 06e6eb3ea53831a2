"""Connecting to Temporal from settings, and making sure the namespace knows our attributes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, Plugin
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from tasklane import search_attributes, tracing
from tasklane.config import Settings

log = logging.getLogger(__name__)


_SHARED_RUNTIME: Runtime | None = None


def process_runtime(metrics_address: str | None = None) -> Runtime:
    """The Temporal runtime of this process: Temporal Core's own log lines go through Python
    logging (so they come out as JSON like the rest), and with `metrics_address` the SDK's
    metrics are served there for Prometheus. Without one, one runtime is shared."""
    global _SHARED_RUNTIME
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    if metrics_address is not None:
        metrics = PrometheusConfig(bind_address=metrics_address, counters_total_suffix=True)
        return Runtime(telemetry=TelemetryConfig(logging=logging_config, metrics=metrics))
    if _SHARED_RUNTIME is None:
        _SHARED_RUNTIME = Runtime(telemetry=TelemetryConfig(logging=logging_config))
    return _SHARED_RUNTIME


async def connect(
    settings: Settings, plugins: Sequence[Plugin] = (), runtime: Runtime | None = None
) -> Client:
    tls: TLSConfig | bool = settings.temporal_tls
    if settings.temporal_tls_cert or settings.temporal_tls_ca:
        tls = TLSConfig(
            client_cert=_read(settings.temporal_tls_cert),
            client_private_key=_read(settings.temporal_tls_key),
            server_root_ca_cert=_read(settings.temporal_tls_ca),
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls,
        plugins=list(plugins),
        runtime=runtime or process_runtime(),
        interceptors=tracing.client_interceptors(settings),
    )


async def ensure_search_attributes(client: Client) -> None:
    """Register missing custom search attributes (idempotent; the dev server has them)."""
    wanted = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
        for key in search_attributes.ALL
    }
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as e:
        # The time-skipping test server implements Add but not List.
        if e.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {name: kind for name, kind in wanted.items() if name not in existing}
    if missing:
        log.info("registering search attributes %s", sorted(missing))
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path else None
