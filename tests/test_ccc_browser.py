"""The console in a real browser: /docs loads, an operator authorises with a token, and "Try it out"
on "my queue" shows their case. The CCC runs as a real process (`interpol-mesh serve ccc=PORT`).

Needs Debian's chromium (/usr/bin/chromium); with CI=true a missing browser is a failure,
otherwise the test is skipped with a loud reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interpol_mesh.natsd import NatsServer, free_port
from interpol_mesh.testing.harness import Backend, TestMesh, wait_until
from interpol_mesh.testing.plugin import CHROMIUM_ARGS, require_chromium
from interpol_offices.cli.up import write_dev_tokens
from interpol_offices.roles import role_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def chromium() -> str:
    """Fails with CI=true when the browser is missing; elsewhere listed in the NOT RUN banner."""
    return require_chromium()


@pytest.fixture
def ccc_server(tmp_path: Path, nats_server: NatsServer) -> Iterator[tuple[str, TestMesh]]:
    """A CCC office in its own process on a free port, SQLite under a fresh DATA_DIR."""
    mesh = TestMesh(
        root=tmp_path / "mesh", nats_url=nats_server.url, backend=Backend("sqlite", None), role_for=role_for
    )
    port = free_port()
    env = {
        **os.environ,
        "NATS_URL": nats_server.url,
        "DATA_DIR": str(mesh.root),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    log = (tmp_path / "ccc.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "interpol_offices.cli", "serve", f"ccc={port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", mesh
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def test_operator_authorises_in_the_console_and_sees_their_queue(
    chromium: str, ccc_server: tuple[str, TestMesh]
) -> None:
    from playwright.async_api import async_playwright

    base, mesh = ccc_server
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:

        async def ready() -> bool:
            try:
                return (await http.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(ready, timeout=60, what=f"the CCC process at {base} to be ready")
        # The one development seeder `interpol-mesh up` runs: a mesh staff token per roster operator.
        folder = write_dev_tokens(mesh.settings("ccc"), mesh.directory, [mesh.directory.get("ccc")])
        tokens = {p.stem: p.read_text() for p in (folder / "ccc").glob("*.token")}
        created = await http.post(
            "/v1/cases",
            json={
                "title": "Browser test",
                "text": "Stolen passport used at the border, please check urgently.",
                "priority": "urgent",
                "language": "en",
            },
            headers={"Authorization": f"Bearer {tokens['ly.laurent']}"},
        )
        assert created.status_code == 201, created.text
        case = created.json()
    operator = case["assigned_to"]  # whoever the roster has on shift right now, on the real clock
    assert operator is not None

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/docs")
            await page.wait_for_selector(".swagger-ui .information-container", timeout=30_000)
            assert "ccc" in (await page.title())

            await page.click("button.btn.authorize")
            # The dialog lists every scheme of the app: the mesh's one, where the operator pastes theirs.
            form = page.locator(".auth-container", has=page.locator("h4", has_text="meshToken"))
            await form.locator("input[aria-label='auth-bearer-value']").fill(tokens[operator])
            await form.locator("button.modal-btn.auth.authorize").click()
            await form.locator("button.modal-btn.auth.btn-done, button.btn-done").first.click()

            summary = page.locator(".opblock-summary:has([data-path='/v1/queue/mine'])")
            await summary.first.click()
            block = page.locator(".opblock.is-open")
            await block.locator("button.try-out__btn").click()
            await block.locator("button.execute").click()
            status = block.locator(".live-responses-table tr.response td.response-col_status").first
            await status.wait_for(timeout=30_000)
            assert (await status.inner_text()).strip().startswith("200")
            body = await block.locator(
                ".live-responses-table tr.response .response-col_description pre.microlight"
            ).first.inner_text()
            assert case["case_id"] in body and operator in body
        finally:
            await browser.close()
