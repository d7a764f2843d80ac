"""The operators' console (/docs) served from files shipped in the package: no CDN needed.

Police networks are closed; FastAPI's default /docs would fetch Swagger UI from the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).with_name("console_assets")
ASSET_PREFIX = "/console-assets"


def mount_console(app: FastAPI) -> None:
    app.mount(ASSET_PREFIX, StaticFiles(directory=ASSETS), name="console-assets")

    @app.get("/docs", include_in_schema=False)
    async def console() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — console",
            swagger_js_url=f"{ASSET_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSET_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSET_PREFIX}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )
