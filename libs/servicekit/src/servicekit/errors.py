"""Domain errors and their HTTP mapping, shared by every service's entrypoints."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.exceptions import Conflict, DomainError, Forbidden, NotFound, TooManyRequests, Unauthorized

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "NotFound",
    "TooManyRequests",
    "Unauthorized",
    "error_body",
    "install_error_handlers",
]


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": code, "message": message, **extra}


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx is JSON saying what is wrong: `{"error", "message", ...}`."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        if isinstance(error, TooManyRequests) and error.retry_after:
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(error_body(error.code, error.message), status_code=error.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(part) for part in e["loc"] if part != "body"),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in error.errors()
        ]
        summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields)
        return JSONResponse(error_body("validation_failed", summary, fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )
