"""The OpenAPI document (`/openapi.json`, `/docs`): request bodies that routes parse
themselves (to bound their size and shape the errors) with their models, each dialect's
tag described, and every operation's error answers in its dialect's own shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

REF = "#/components/schemas/{model}"
_BODY_MODELS: list[type[BaseModel]] = []


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads `model` from a JSON body."""
    _BODY_MODELS.append(model)
    schema = {"$ref": REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


TAGS = [
    {"name": "Taskhook: tasks", "description": "HTTP-target tasks: `Authorization: Bearer`."},
    {
        "name": "Taskhook: URL groups",
        "description": 'Named URL lists; a task with `target: "group:<name>"` fans out.',
    },
    {"name": "ricloud: tasks", "description": "Typed tasks: `Authorization: Token`."},
    {"name": "ricloud: results", "description": "What typed tasks published, and acks."},
    {
        "name": "Metavault: background tasks",
        "description": "Tasks a host application started for its users; RFC 7807 errors.",
    },
    {"name": "System tasks", "description": "The running-task view and its real-time events."},
]

# Each dialect's error body (api/errors.py, api/render/*), by path prefix; Taskhook's is the
# default, as in api.errors.renderer_for.
_ERROR_SHAPES: dict[str, dict[str, Any]] = {
    "TaskhookError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "example": "invalid_request"},
                    "message": {"type": "string"},
                    "details": {
                        "type": "array",
                        "nullable": True,
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
    "RicloudError": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "example": "invalid-parameter"},
            "message": {"type": "string"},
            "params": {"type": "object"},
        },
    },
    "ProblemDetails": {
        "type": "object",
        "description": "RFC 7807 (application/problem+json)",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
    },
}
_ERRORS_BY_PREFIX = [
    (("/tasks", "/results"), "RicloudError", "application/json"),
    (("/api/projects",), "ProblemDetails", "application/problem+json"),
]
_ERROR_STATUSES = {
    "400": "Malformed request: the body or a parameter, named in the answer",
    "401": "Missing or wrong credentials",
    "404": "Unknown id, or another tenant's",
    "409": "Conflict with the current state, with the reason",
    "413": "Body or payload too large",
    "422": "A limit exceeded, named in the answer",
    "503": "Temporal, Redis or a worker did not answer in time; nothing changed",
}


# Which errors a method can answer: reads send no body (no 413) and change nothing (no 409).
_ALL = frozenset(_ERROR_STATUSES)
_ANSWERED_BY = {"get": _ALL - {"409", "413"}}


def _add_errors(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    schemas.update(_ERROR_SHAPES)
    for path, operations in document.get("paths", {}).items():
        shape, media = "TaskhookError", "application/json"
        for prefixes, name, kind in _ERRORS_BY_PREFIX:
            if path.startswith(prefixes):
                shape, media = name, kind
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_STATUSES.items():
                if status not in _ANSWERED_BY.get(method, _ALL):
                    continue
                answer = {
                    "description": description,
                    "content": {media: {"schema": {"$ref": REF.format(model=shape)}}},
                }
                # FastAPI's own 422 (HTTPValidationError) is never sent: bad input is
                # answered by api.errors in the dialect's shape.
                if status not in responses or "HTTPValidationError" in str(responses[status]):
                    responses[status] = answer


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
                tags=TAGS,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in _BODY_MODELS:
                schema = model.model_json_schema(ref_template=REF)
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            _add_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
