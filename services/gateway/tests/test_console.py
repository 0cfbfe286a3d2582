"""The web console in headless Chromium (Debian's chromium driven by Playwright).

cluster-manager has no create handler in the repository yet: the cluster becomes Running
through the STUB cluster-manager of stubs.py (real bus, real facts, real operation tracking)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gwtest import ADMIN_TOKEN, Stack
from playwright.async_api import Browser, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        await b.close()


async def _logged_in(stack: Stack, browser: Browser, errors: list[str]) -> Any:
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(stack.url + "/")
    await page.fill("#token", ADMIN_TOKEN)
    await page.fill("#tenant", "acme")
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Clusters")
    return page


async def test_console_create_form_shows_field_error_then_cluster_runs(stack: Stack, browser: Browser) -> None:
    errors: list[str] = []
    page = await _logged_in(stack, browser, errors)
    await expect(page.locator("tr[data-row=acme-prod]")).to_be_visible()
    await expect(page.locator("tr[data-row=globex-prod]")).to_have_count(0)

    async def submit(expect_status: int) -> dict[str, Any]:
        await page.locator("#f-description").focus()  # blur the CIDR fields first: their checks move the layout

        def is_create(r: Any) -> bool:
            return bool(r.url.endswith("/api/v1/clusters") and r.request.method == "POST")

        async with page.expect_response(is_create) as info:
            await page.click("#submit-cluster")
        resp = await info.value
        assert resp.status == expect_status
        body: dict[str, Any] = await resp.json()
        return body

    await page.click("#create-cluster")
    await page.fill("#f-name", "console-one")
    await page.fill("#f-pod_cidr", "172.16.0.0/33")
    problem = await submit(422)
    server_message = problem["errors"][0]["message"]
    assert problem["errors"][0]["field"] == "pod_cidr"
    error = page.locator("[id='err-pod_cidr']")
    await expect(error).to_have_text(server_message)  # the server's problem+json error, on its field
    await expect(page.locator("[data-field='pod_cidr']")).to_have_class("row invalid")

    await page.fill("#f-pod_cidr", "172.18.0.0/16")
    await page.fill("#f-service_cidr", "172.18.0.0/20")
    await submit(422)
    await expect(page.locator("[id='err-pod_cidr']")).to_contain_text(
        re.compile(r"overlaps (the )?service[_ ]cidr", re.IGNORECASE)
    )

    await page.fill("#f-service_cidr", "10.247.0.0/16")
    await submit(202)
    await expect(page.locator("#cluster-name")).to_have_text("console-one")
    await expect(page.locator("#cluster-status")).to_have_text("Running", timeout=15_000)
    await expect(page.locator("#timeline")).to_contain_text("running", timeout=10_000)
    assert not errors, errors
    await page.close()


async def test_console_hands_out_the_join_command_of_a_pool(stack: Stack, browser: Browser) -> None:
    errors: list[str] = []
    page = await _logged_in(stack, browser, errors)
    await page.click("a[href='#/clusters/acme-prod']")
    row = page.locator("tr[data-row=edge]")
    await expect(row).to_contain_text("4 cores 8 GiB")
    await row.locator("button").click()
    await expect(page.locator("pre.join-command")).to_contain_text("berth node join --server https://127.0.0.1:6443")
    await expect(page.locator("pre.join-command")).to_contain_text("token abcdef for pool edge")
    assert stack.world.join_requests[-1]["tenant"] == "acme"
    assert not errors, errors
    await page.close()


async def test_console_releases_page_promotes_a_paused_canary(stack: Stack, browser: Browser) -> None:
    errors: list[str] = []
    page = await _logged_in(stack, browser, errors)
    await page.click("a[data-nav=releases]")
    row = page.locator("tr[data-row=acme-web]")
    await expect(row).to_contain_text("canary")
    await expect(row).to_contain_text("20%")
    await expect(page.locator("tr[data-row=globex-web]")).to_have_count(0)

    def is_promote(r: Any) -> bool:
        return bool(r.url.endswith("/api/v1/releases/acme-web:promote") and r.request.method == "POST")

    async with page.expect_response(is_promote) as info:
        await row.locator("button[data-action=promote]").click()
    assert (await info.value).status == 202
    await expect(page.locator("#toast")).to_contain_text("promote acme-web: accepted")
    assert not errors, errors
    await page.close()


async def test_console_dr_page_asks_why_before_switching(stack: Stack, browser: Browser) -> None:
    errors: list[str] = []
    page = await _logged_in(stack, browser, errors)
    await page.click("a[data-nav=dr]")
    row = page.locator("tr[data-row=shop]")
    await expect(row).to_contain_text("beijing (healthy)")
    await expect(row).to_contain_text("shanghai (healthy)")
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept("planned maintenance")))

    def is_switch(r: Any) -> bool:
        return bool(r.url.endswith("/api/v1/dr-groups/shop:switchover") and r.request.method == "POST")

    async with page.expect_response(is_switch) as info:
        await row.locator("button[data-action=switchover]").click()
    resp = await info.value
    assert resp.status == 202, await resp.text()
    assert resp.request.post_data_json == {"reason": "planned maintenance"}
    assert not errors, errors
    await page.close()
