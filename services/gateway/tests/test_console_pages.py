"""The console's resource pages (alert channels, alert routes, silences) in headless Chromium,
against the REAL monitor-alert the gateway test stack runs (conftest.py): each page creates,
edits and deletes through its forms, shows the API's field error next to the field, and
writes one screenshot under the test's tmp dir (its path is printed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gwtest import Stack
from playwright.async_api import Browser, Page, expect
from test_console import _logged_in, browser  # noqa: F401  (the module's browser fixture)


def _is(method: str, path: str) -> Callable[[Any], bool]:
    def match(r: Any) -> bool:
        return bool(r.request.method == method and r.url.split("?")[0].endswith(path))

    return match


async def _submit(page: Page, method: str, path: str, status: int) -> dict[str, Any]:
    """Submit the page's form and check the API's answer to it."""
    async with page.expect_response(_is(method, path)) as info:
        await page.click("#submit")
    resp = await info.value
    assert resp.status == status, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def _field_error(page: Page, field: str, text: str) -> None:
    """The error sits in the field's own row, and the row is marked invalid."""
    await expect(page.locator(f"[id='err-{field}']")).to_contain_text(text)
    await expect(page.locator(f"[data-field='{field}']")).to_have_class("row invalid")


def _accept_dialogs(page: Page, seen: list[str]) -> None:
    async def on_dialog(d: Any) -> None:
        seen.append(d.message)
        await d.accept()

    page.on("dialog", on_dialog)


async def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"console-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


async def _applied(stack: Stack, body: dict[str, Any]) -> None:
    op_id = body["operation"]["id"]
    for _ in range(200):
        _, op = await stack.call("GET", f"/api/v1/operations/{op_id}")
        if op["state"] == "succeeded":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation never succeeded: {op}")


async def test_channels_page_creates_edits_and_deletes_a_voice_channel(
    stack: Stack,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    dialogs: list[str] = []
    page = await _logged_in(stack, browser, errors)
    _accept_dialogs(page, dialogs)
    await page.click("a[data-nav=channels]")
    await expect(page.locator("h1")).to_have_text("Alert channels")
    await page.click("#create")
    await page.fill("#f-name", "pager")
    await page.select_option("#f-kind", "twilio-voice")
    # the kind's own fields show, the others' hide
    await expect(page.locator("[data-field=callback_url]")).to_be_visible()
    await expect(page.locator("[data-field=sign_name]")).to_be_hidden()
    await expect(page.locator("[data-field=url]")).to_be_hidden()
    await page.fill("#f-access_key_id", "AC0123")
    await page.fill("#f-secret", "twilio-auth-token")
    await page.fill("#f-caller_id", "+15550001111")
    await page.fill("#f-recipients", "12345")

    problem = await _submit(page, "POST", "/api/v1/channels", 422)
    assert problem["errors"][0]["field"] == "recipients.0", problem
    await _field_error(page, "recipients", problem["errors"][0]["message"])

    # an error about the whole channel lands on the field its message names
    await page.fill("#f-recipients", "+8613800000000\n+8613900000000")
    problem = await _submit(page, "POST", "/api/v1/channels", 422)
    await _field_error(page, "callback_url", "callback_url must be")
    await expect(page.locator("[id='err-recipients']")).to_have_text("")

    await page.fill("#f-callback_url", "https://berth.example/hooks/twilio/call")
    await _submit(page, "POST", "/api/v1/channels", 202)
    await expect(page.locator("#detail-name")).to_have_text("pager")
    await expect(page.locator("[data-value=kind]")).to_have_text("twilio-voice")
    await expect(page.locator("[data-value=recipients]")).to_have_text("+8613800000000, +8613900000000")
    status, stored = await stack.call("GET", "/api/v1/channels/pager?tenant=acme")
    assert status == 200 and stored["has_secret"] and stored["caller_id"] == "+15550001111", stored

    # edit: the name is fixed, the secret is entered again, a bad value is refused on its field
    await page.click("#edit")
    await expect(page.locator("#f-name")).to_have_value("pager")
    await expect(page.locator("#f-name")).to_have_attribute("readonly", "")
    await expect(page.locator("#f-recipients")).to_have_value("+8613800000000\n+8613900000000")
    await page.fill("#f-secret", "twilio-auth-token")
    await page.fill("#f-max_attempts", "99")
    problem = await _submit(page, "PUT", "/api/v1/channels/pager", 422)
    await _field_error(page, "max_attempts", problem["errors"][0]["message"])
    await page.fill("#f-max_attempts", "7")
    await page.fill("#f-ack_digit", "5")
    await _submit(page, "PUT", "/api/v1/channels/pager", 202)
    await expect(page.locator("[data-value=max_attempts]")).to_have_text("7")
    await expect(page.locator("[data-value=ack_digit]")).to_have_text("5")

    await page.click("a[data-nav=channels]")
    row = page.locator("tr[data-row=pager]")
    await expect(row).to_contain_text("twilio-voice")
    await expect(row).to_contain_text("+8613800000000")
    await _screenshot(page, tmp_path, "channels")

    await row.locator("button[data-action=delete]").click()
    await expect(row).to_have_count(0)
    assert dialogs == ["Delete channel pager? This cannot be undone."], dialogs
    status, _ = await stack.call("GET", "/api/v1/channels/pager?tenant=acme")
    assert status == 404
    assert not errors, errors
    await page.close()


async def test_channels_form_offers_each_sms_and_voice_kind_its_fields(
    stack: Stack,
    browser: Browser,  # noqa: F811
) -> None:
    errors: list[str] = []
    page = await _logged_in(stack, browser, errors)
    await page.goto(stack.url + "/#/channels/new")
    shown = {
        "aliyun-sms": ["sign_name", "template_code", "template_params", "recipients"],
        "aliyun-voice": ["template_code", "template_params", "caller_id", "recipients"],
        "tencent-sms": ["sms_app_id", "region", "sign_name", "template_code", "template_params", "recipients"],
        "twilio-sms": ["caller_id", "recipients"],
        "twilio-voice": ["caller_id", "recipients"],
        "email": ["smtp_host", "email_from", "email_to"],
        "dingtalk": ["url", "mentions.mobiles"],
    }
    every = {f for fields in shown.values() for f in fields}  # each is hidden for the other kinds
    for kind, fields in shown.items():
        await page.select_option("#f-kind", kind)
        for f in every:
            row = page.locator(f"[data-field='{f}']")
            await (expect(row).to_be_visible() if f in fields else expect(row).to_be_hidden())
    # a Tencent SMS channel is created from its fields, the template parameters in order
    await page.select_option("#f-kind", "tencent-sms")
    await page.fill("#f-name", "sms-oncall")
    for f, v in {
        "access_key_id": "AKID0",
        "secret": "tencent-secret",
        "sms_app_id": "1400000000",
        "sign_name": "Berth",
        "template_code": "1234567",
        "recipients": "+8613800000000",
    }.items():
        await page.fill(f"[id='f-{f}']", v)
    await page.fill("#f-template_params", "alert={{ alerts[0].alertname }}\ncount={{ alerts | length }}")
    await _submit(page, "POST", "/api/v1/channels", 202)
    await expect(page.locator("[data-value=template_params]")).to_contain_text("alert=")
    status, stored = await stack.call("GET", "/api/v1/channels/sms-oncall?tenant=acme")
    assert status == 200, stored
    assert list(stored["template_params"]) == ["alert", "count"], stored
    assert not errors, errors
    await page.close()


async def test_alert_routes_page_creates_edits_and_deletes_a_route(
    stack: Stack,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    status, body = await stack.call(
        "POST",
        "/api/v1/channels?tenant=acme",
        json={"name": "ops-chat", "kind": "webhook", "url": "http://127.0.0.1:9/"},
    )
    assert status == 202, body
    await _applied(stack, body)
    errors: list[str] = []
    dialogs: list[str] = []
    page = await _logged_in(stack, browser, errors)
    _accept_dialogs(page, dialogs)
    await page.click("a[data-nav=alert-routes]")
    await expect(page.locator("h1")).to_have_text("Alert routes")
    await page.click("#create")
    await expect(page.locator("[data-field=channels] .hint")).to_contain_text("known: ")
    await page.fill("#f-name", "critical-to-ops")
    await page.fill("#f-matchers", "severity critical")
    await page.fill("#f-channels", "ops-chat")
    problem = await _submit(page, "POST", "/api/v1/alert-routes", 422)
    await _field_error(page, "matchers", problem["errors"][0]["message"])

    await page.fill("#f-matchers", 'severity=critical\ncluster=~"prod-.*"')
    await _submit(page, "POST", "/api/v1/alert-routes", 202)
    await expect(page.locator("#detail-name")).to_have_text("critical-to-ops")
    await expect(page.locator("[data-value=matchers]")).to_have_text('severity="critical", cluster=~"prod-.*"')
    await expect(page.locator("[data-value=channels]")).to_have_text("ops-chat")

    # edit: a step that notifies a channel again is refused on the escalation field
    await page.click("#edit")
    await expect(page.locator("#f-matchers")).to_have_value('severity="critical"\ncluster=~"prod-.*"')
    await page.fill("#f-order", "5")
    await page.fill("#f-escalation", "10: ops-chat")
    await _submit(page, "PUT", "/api/v1/alert-routes/critical-to-ops", 422)
    await _field_error(page, "escalation", "already notified")
    await page.fill("#f-escalation", "10: ops-sms\n30: ops-call")
    await _submit(page, "PUT", "/api/v1/alert-routes/critical-to-ops", 202)
    await expect(page.locator("[data-value=order]")).to_have_text("5")
    await expect(page.locator("[data-value=escalation]")).to_have_text("10: ops-sms; 30: ops-call")
    status, stored = await stack.call("GET", "/api/v1/alert-routes/critical-to-ops?tenant=acme")
    assert status == 200 and stored["escalation"][1] == {"after_minutes": 30, "channels": ["ops-call"]}, stored

    await page.click("a[data-nav=alert-routes]")
    await expect(page.locator("tr[data-row=critical-to-ops]")).to_contain_text("ops-chat")
    await _screenshot(page, tmp_path, "alert-routes")
    await page.click("a[href='#/alert-routes/critical-to-ops']")
    await page.click("#delete")
    await expect(page.locator("h1")).to_have_text("Alert routes")
    await expect(page.locator("tr[data-row=critical-to-ops]")).to_have_count(0)
    assert dialogs == ["Delete route critical-to-ops? This cannot be undone."], dialogs
    status, _ = await stack.call("GET", "/api/v1/alert-routes/critical-to-ops?tenant=acme")
    assert status == 404
    assert not errors, errors
    await page.close()


async def test_silences_page_creates_follows_and_expires_silences(
    stack: Stack,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    errors: list[str] = []
    dialogs: list[str] = []
    page = await _logged_in(stack, browser, errors)
    _accept_dialogs(page, dialogs)
    await page.click("a[data-nav=silences]")
    await expect(page.locator("h1")).to_have_text("Silences")
    await page.click("#create")
    await page.fill("#f-matchers", "alertname HighLoad")
    problem = await _submit(page, "POST", "/api/v1/silences", 422)
    await _field_error(page, "matchers", problem["errors"][0]["message"])
    await page.fill("#f-matchers", "alertname=HighLoad\ncluster=acme-prod")
    await page.fill("#f-duration_minutes", "0")
    problem = await _submit(page, "POST", "/api/v1/silences", 422)
    await _field_error(page, "duration_minutes", problem["errors"][0]["message"])
    await expect(page.locator("[id='err-matchers']")).to_have_text("")

    await page.fill("#f-duration_minutes", "90")
    await page.fill("#f-comment", "database maintenance")
    await page.fill("#f-id", "db-window")
    await _submit(page, "POST", "/api/v1/silences", 202)
    await expect(page.locator("#detail-name")).to_have_text("db-window")
    await expect(page.locator("[data-value=state]")).to_have_text("active")
    await expect(page.locator("[data-value=matchers]")).to_have_text('alertname="HighLoad", cluster="acme-prod"')
    await expect(page.locator("[data-value=comment]")).to_have_text("database maintenance")

    # the list follows the event stream: a silence made elsewhere appears without a reload
    await page.click("a[data-nav=silences]")
    await expect(page.locator("#silences")).to_have_attribute("data-live", "on")
    await expect(page.locator("tr[data-row=db-window]")).to_contain_text("active")
    status, body = await stack.call(
        "POST",
        "/api/v1/silences?tenant=acme",
        json={"id": "from-cli", "matchers": ["alertname=Noise"], "duration_minutes": 30},
    )
    assert status == 202, body
    await expect(page.locator("tr[data-row=from-cli]")).to_contain_text('alertname="Noise"')
    await _screenshot(page, tmp_path, "silences")

    # expiring is the silence's delete: confirmed first, then the row says so
    row = page.locator("tr[data-row=db-window]")
    await row.locator("button[data-action=expire]").click()
    await expect(row).to_contain_text("expired")
    await expect(row.locator("button[data-action=expire]")).to_have_count(0)
    assert dialogs == ["Expire silence db-window now? Its alerts notify again."], dialogs
    status, silence = await stack.call("GET", "/api/v1/silences/db-window?tenant=acme")
    assert status == 200 and silence["expired"], silence
    assert not errors, errors
    await page.close()
