"""Errors that carry their HTTP status, rendered in the shape of the dialect that was called."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

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
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        self.code = code or self.code
        self.headers = headers

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


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unprocessable(ApiError):
    status, code = 422, "limit_exceeded"


class Unavailable(ApiError):
    status, code = 503, "unavailable"


def from_validation_error(error: RequestValidationError | Any) -> InvalidRequest:
    """A pydantic/FastAPI validation error as one 400 that names every offending field."""
    details = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        details.append({"field": field, "message": item.get("msg", "is invalid")})
    if any(item.get("type") == "json_invalid" for item in error.errors()):
        return InvalidRequest("the body is not valid JSON", code="invalid_json", details=details)
    first = details[0] if details else {"field": "body", "message": "is invalid"}
    return InvalidRequest(f"{first['field']}: {first['message']}", details=details)


def taskhook_body(error: ApiError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "details": error.detail_list()}}


def install_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return JSONResponse(taskhook_body(error), status_code=error.status, headers=error.headers)

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
        return JSONResponse(taskhook_body(body), status_code=500)

    async def temporal_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RPCError)
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            wrapped = Unavailable("Temporal is not reachable right now; retry shortly")
            return await api_error(request, wrapped)
        return await unexpected(request, error)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RPCError, temporal_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
