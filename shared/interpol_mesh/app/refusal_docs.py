"""The OpenAPI of an office documents every status its routes answer, refusals included.

Clients (and schemathesis in the tests) read the OpenAPI to know what to expect. The refusals
come from mechanisms shared by all routes (authentication, roles, path ids, body and in-flight
limits), so they are documented here once, from what each operation has, rather than route by
route; a route that declares its own description for a status keeps it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from interpol_mesh.app.limits import DEFAULT_BODY_BYTES, UNMETERED, BodyLimits, too_large_detail

REFUSAL = {
    "application/json": {
        "schema": {"title": "Refusal", "type": "object", "properties": {"detail": {}}, "required": ["detail"]}
    }
}
SECURED = {
    "401": "No, malformed, invalid, expired or revoked token",
    "403": "The token's principal may not do this",
}
WITH_PATH_ID = {"404": "Nothing with this id here"}
EVERY = {"503": "Too many requests or request bytes in flight at this office; retry after `Retry-After` seconds"}


def document_refusals(app: FastAPI, body_limits: BodyLimits) -> None:
    """Wrap `app.openapi` so the generated document lists the shared refusals of each operation."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for path, operations in generate()["paths"].items():
                for method, operation in operations.items():
                    _add_refusals(path, operation, body_limits.get((method.upper(), path), DEFAULT_BODY_BYTES))
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_refusals(path: str, operation: dict[str, Any], body_limit: int) -> None:
    statuses: dict[str, str] = {}
    if operation.get("security"):
        statuses |= SECURED
    if "{" in path:
        statuses |= WITH_PATH_ID
    if "requestBody" in operation:
        statuses["400"] = "The body could not be read as text (FastAPI: `There was an error parsing the body`)"
        statuses["413"] = f"The {too_large_detail(body_limit)} (nothing past the limit is read)"
        statuses["408"] = "The body was not complete within the office's body deadline (REQUEST_BODY_DEADLINE_S)"
    if path not in UNMETERED:
        statuses |= EVERY
    responses = operation.setdefault("responses", {})
    for status, description in statuses.items():
        responses.setdefault(status, {"description": description, "content": REFUSAL})
