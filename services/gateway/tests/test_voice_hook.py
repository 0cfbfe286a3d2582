"""/hooks/twilio/call: a voice provider's call callback is sent unchanged to monitor-alert as
ingest-call-status (monitor-alert checks its signature); what cannot be one is refused here."""

from __future__ import annotations

from gwtest import Stack

HOOK = "/hooks/twilio/call"
FORM = {"CallSid": "CA123", "CallStatus": "completed", "Digits": "1"}


async def _post(stack: Stack, query: str, *, data: object, headers: dict[str, str]) -> tuple[int, str]:
    async with stack.http.post(stack.url + HOOK + query, data=data, headers=headers) as resp:
        return resp.status, await resp.text()


async def test_a_call_callback_is_forwarded_and_audited(stack: Stack) -> None:
    status, text = await _post(
        stack, "?tenant=acme&channel=oncall&notification=n1", data=FORM, headers={"X-Twilio-Signature": "c2ln"}
    )
    assert status == 200 and "<Response/>" in text, text
    status, page = await stack.call("GET", "/api/v1/audit?tenant=acme&limit=500")
    assert status == 200, page
    rows = [r for r in page["items"] if r["path"] == HOOK]
    assert rows and "call status completed of CA123 sent to monitor-alert" in rows[-1]["detail"], rows


async def test_what_cannot_be_a_callback_is_refused(stack: Stack) -> None:
    status, _ = await _post(stack, "?tenant=acme", data=FORM, headers={})
    assert status == 401  # no signature
    signed = {"X-Twilio-Signature": "c2ln"}
    status, _ = await _post(stack, "", data=FORM, headers=signed)
    assert status == 400  # no tenant
    status, _ = await _post(stack, "?tenant=Not_A_Name", data=FORM, headers=signed)
    assert status == 400
    status, _ = await _post(stack, "?tenant=acme", data=b"{}", headers={**signed, "Content-Type": "application/json"})
    assert status == 415
