"""One office on real NATS and a real database: health, readiness, directory and the offline console."""

from __future__ import annotations

import re

from conftest import MeshFactory


async def test_office_is_alive_ready_and_serves_the_directory(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.fr")
    client = mesh.client("ncb.fr")
    assert (await client.get("/healthz")).json() == {"status": "alive", "office": "ncb.fr", "reasons": []}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    directory = (await client.get("/v1/directory")).json()
    assert directory["counts"] == {"ccc": 1, "gs": 1, "lo": 4, "ncb": 196, "rb": 7}


async def test_console_uses_only_packaged_assets(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.fr")
    client = mesh.client("ncb.fr")
    html = (await client.get("/docs")).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"""url: *["']([^"']+)["']""", html)
    assert urls, html
    assert all(u.startswith("/") for u in urls), f"console references external URLs: {urls}"
    for asset in ("/console-assets/swagger-ui-bundle.js", "/console-assets/swagger-ui.css"):
        response = await client.get(asset)
        assert response.status_code == 200 and len(response.content) > 10_000
    assert "http://" not in html and "https://" not in html
