"""Errors that carry their HTTP status, rendered in the shape of the dialect that was called."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from tasklane import errors as domain

log = logging.getLogger("tasklane.api")


class ApiError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Any = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        self.code = code or self.code
        self.headers = headers
        # Where the offending input was: "query", "path", "body" or "header".
        self.location = location

    def detail_list(self) -> Any:
        if self.details is not None:
            return self.details
        if self.field:
            return [{"field": self.field, "message": self.message}]
        return None


class InvalidRequest(ApiError):
    status, code = 400, "invalid_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Gone(ApiError):
    status, code = 410, "gone"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unprocessable(ApiError):
    status, code = 422, "limit_exceeded"


class Unavailable(ApiError):
    status, code = 503, "unavailable"


def from_domain(error: domain.TasklaneError) -> ApiError:
    """An error of the task store as the API error it stands for."""
    mapped: dict[type[domain.TasklaneError], Callable[..., ApiError]] = {
        domain.TaskNotFound: NotFound,
        domain.NotCancellable: lambda m, **kw: Conflict(m, code="not_cancellable", **kw),
        domain.ResultNotAvailable: Gone,
        domain.InvalidTask: InvalidRequest,
        domain.NoWorker: Unavailable,
        domain.GroupNotFound: NotFound,
        domain.GroupConflict: lambda m, **kw: Conflict(m, code="duplicate_name", **kw),
        domain.GroupsFull: Unprocessable,
        domain.GroupsUnavailable: Unavailable,
    }
    make = mapped.get(type(error), ApiError)
    return make(error.message, field=error.field, location="body" if error.field else None)


def from_validation_error(
    error: RequestValidationError | Any, location: str | None = None
) -> InvalidRequest:
    """A pydantic/FastAPI validation error as one 400 that names every offending field."""
    details = []
    for item in error.errors():
        raw_loc = item.get("loc", ())
        if location is None and raw_loc and raw_loc[0] in ("body", "query", "path"):
            location = str(raw_loc[0])
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        details.append({"field": field, "message": item.get("msg", "is invalid")})
    if any(item.get("type") == "json_invalid" for item in error.errors()):
        return InvalidRequest(
            "the body is not valid JSON", code="invalid_json", details=details, location="body"
        )
    first = details[0] if details else {"field": "body", "message": "is invalid"}
    return InvalidRequest(
        f"{first['field']}: {first['message']}",
        details=details,
        field=first["field"],
        location=location,
    )


def taskhook_body(error: ApiError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "details": error.detail_list()}}


# Each dialect renders errors in its own shape; the first path prefix that matches wins.
ErrorRenderer = Callable[[ApiError], JSONResponse]
DIALECT_RENDERERS: list[tuple[tuple[str, ...], ErrorRenderer]] = []


def render_taskhook(error: ApiError) -> JSONResponse:
    return JSONResponse(taskhook_body(error), status_code=error.status, headers=error.headers)


def renderer_for(path: str) -> ErrorRenderer:
    for prefixes, renderer in DIALECT_RENDERERS:
        if path.startswith(prefixes):
            return renderer
    return render_taskhook


def install_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return renderer_for(request.url.path)(error)

    async def domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, domain.TasklaneError)
        return await api_error(request, from_domain(error))

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        return await api_error(request, from_validation_error(error))

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        mapped = {404: NotFound, 405: InvalidRequest}.get(error.status_code, ApiError)
        wrapped = mapped(str(error.detail))
        wrapped.status = error.status_code
        return await api_error(request, wrapped)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = ApiError("internal error; the request may be retried", code="internal_error")
        body.status = 500
        return await api_error(request, body)

    async def temporal_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RPCError)
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            wrapped = Unavailable("Temporal is not reachable right now; retry shortly")
            return await api_error(request, wrapped)
        return await unexpected(request, error)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(domain.TasklaneError, domain_error)
    app.add_exception_handler(RPCError, temporal_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
