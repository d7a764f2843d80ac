"""The console renders in a real browser with no network beyond this machine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conftest import MeshFactory
from interpol_mesh.testing.plugin import OfficeSpawner

pytestmark = pytest.mark.browser


async def test_docs_render_offline(make_mesh: MeshFactory, browser: Any, office_processes: OfficeSpawner) -> None:
    mesh = make_mesh()
    gs = office_processes(mesh, "gs")
    await asyncio.to_thread(gs.start)

    page = await browser.new_page()
    outside: list[str] = []

    async def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(gs.url):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await page.route("**/*", only_local)
    await page.goto(f"{gs.url}/docs")
    await page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    title = await page.inner_text(".swagger-ui .info .title")
    assert "interpol-mesh gs" in title
    await page.get_by_text("/v1/directory", exact=True).first.wait_for(timeout=10_000)
    assert outside == [], f"the console tried to reach the network: {outside}"
