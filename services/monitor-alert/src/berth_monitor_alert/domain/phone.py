"""SMS and voice-call requests for one recipient, signed as each provider verifies them, and how
to read each provider's answer. Pure: the clock reading and the nonce come in."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

from berth_schema.alert.channels import Channel

from .cloudsign import acs3_headers, tc3_headers
from .outbound import HttpRequest

ALIYUN_SMS = "https://dysmsapi.aliyuncs.com"
ALIYUN_VOICE = "https://dyvmsapi.aliyuncs.com"
ALIYUN_VERSION = "2017-05-25"  # Dysmsapi and Dyvmsapi
TENCENT_SMS = "https://sms.tencentcloudapi.com"
TENCENT_VERSION = "2021-01-11"
TENCENT_REGION = "ap-guangzhou"
TWILIO = "https://api.twilio.com"
TWILIO_SAY_LIMIT = 4_000  # <Say> takes up to 4,096 characters
ACK_PROMPT = "Press {digit} to acknowledge this alert."


def _base(channel: Channel, default: str) -> str:
    return (channel.url or default).rstrip("/")


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _secret(channel: Channel) -> str:
    return channel.secret.get_secret_value() if channel.secret else ""


def callback_url(channel: Channel, *, tenant: str, notification: str) -> str:
    """Where Twilio posts the digits pressed on a call (the gateway's CALL_HOOK_PATH)."""
    query = urlencode({"tenant": tenant, "channel": channel.name, "notification": notification})
    return f"{channel.callback_url}{'&' if '?' in channel.callback_url else '?'}{query}"


def twiml(channel: Channel, text: str, *, action: str) -> str:
    """Say the alert inside a one-digit <Gather> that posts the key to ``action``."""
    prompt = ACK_PROMPT.format(digit=channel.ack_digit)
    say = escape(text[:TWILIO_SAY_LIMIT])
    return (
        f'<Response><Gather input="dtmf" numDigits="1" timeout="10" method="POST" action={quoteattr(action)}>'
        f"<Say>{say}</Say><Say>{escape(prompt)}</Say></Gather><Say>No key was pressed. Goodbye.</Say></Response>"
    )


def _aliyun(channel: Channel, part: Mapping[str, Any], *, now: datetime, nonce: str, reference: str) -> HttpRequest:
    to: str = part["to"]
    params_json = json.dumps(part.get("params") or {}, ensure_ascii=False, separators=(",", ":"))
    if channel.kind == "aliyun-sms":
        base, action = _base(channel, ALIYUN_SMS), "SendSms"
        # SendSms takes mainland numbers with or without 86 and others as country code + number
        params = {
            "PhoneNumbers": to.removeprefix("+"),
            "SignName": channel.sign_name,
            "TemplateCode": channel.template_code,
            "TemplateParam": params_json,
            "OutId": reference,
        }
    else:
        base, action = _base(channel, ALIYUN_VOICE), "SingleCallByTts"
        # voice notifications reach mainland numbers, given as the 11 digits
        params = {
            "CalledNumber": to.removeprefix("+86") if to.startswith("+86") else to.removeprefix("+"),
            "TtsCode": channel.template_code,
            "TtsParam": params_json,
            "OutId": reference,
        }
        if channel.caller_id:
            params["CalledShowNumber"] = channel.caller_id
    host = urlsplit(base).netloc
    query, headers = acs3_headers(
        host=host,
        action=action,
        version=ALIYUN_VERSION,
        params=params,
        body=b"",
        access_key_id=channel.access_key_id,
        secret=_secret(channel),
        date=now,
        nonce=nonce,
    )
    return HttpRequest(f"{base}/?{query}", b"", headers, encoded=True)


def _tencent(channel: Channel, part: Mapping[str, Any], *, now: datetime, reference: str) -> HttpRequest:
    base = _base(channel, TENCENT_SMS)
    body = _json(
        {
            "PhoneNumberSet": [part["to"]],
            "SmsSdkAppId": channel.sms_app_id,
            "SignName": channel.sign_name,
            "TemplateId": channel.template_code,
            "TemplateParamSet": list((part.get("params") or {}).values()),
            "SessionContext": reference,
        }
    )
    headers = tc3_headers(
        host=urlsplit(base).netloc,
        service="sms",
        action="SendSms",
        version=TENCENT_VERSION,
        region=channel.region or TENCENT_REGION,
        payload=body,
        secret_id=channel.access_key_id,
        secret_key=_secret(channel),
        timestamp=int(now.timestamp()),
    )
    return HttpRequest(f"{base}/", body, headers)


def _twilio(channel: Channel, part: Mapping[str, Any], *, tenant: str, reference: str) -> HttpRequest:
    sid = channel.access_key_id
    basic = base64.b64encode(f"{sid}:{_secret(channel)}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    form = {"To": part["to"], "From": channel.caller_id}
    if channel.kind == "twilio-sms":
        resource = "Messages"
        form["Body"] = part["text"]
    else:
        resource = "Calls"
        action = callback_url(channel, tenant=tenant, notification=reference)
        form["Twiml"] = twiml(channel, part["text"], action=action)
    url = f"{_base(channel, TWILIO)}/2010-04-01/Accounts/{sid}/{resource}.json"
    return HttpRequest(url, urlencode(form).encode(), headers)


def build_phone(
    channel: Channel, part: Mapping[str, Any], *, tenant: str, now_s: float, nonce: str, reference: str
) -> HttpRequest:
    """The provider request for one part (one recipient) of a notification; ``reference`` (the
    notification id) travels as OutId / SessionContext and in the call's callback URL."""
    now = datetime.fromtimestamp(now_s, UTC)
    if channel.kind in ("aliyun-sms", "aliyun-voice"):
        return _aliyun(channel, part, now=now, nonce=nonce, reference=reference)
    if channel.kind == "tencent-sms":
        return _tencent(channel, part, now=now, reference=reference)
    if channel.kind in ("twilio-sms", "twilio-voice"):
        return _twilio(channel, part, tenant=tenant, reference=reference)
    raise ValueError(f"{channel.kind} is not a phone channel")


# --- answers ----------------------------------------------------------------------------
ALIYUN_RETRY = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "isp.", "ServiceUnavailable", "InternalError")
TENCENT_RETRY = ("RequestLimitExceeded", "LimitExceeded", "InternalError")


def _doc(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _aliyun_answer(status: int, doc: dict[str, Any]) -> tuple[bool, bool, str, str]:
    code = str(doc.get("Code", ""))
    if status < 300 and code == "OK":
        return True, False, "ok", str(doc.get("BizId") or doc.get("CallId") or "")
    if not code:
        return False, status < 500 and status != 429 and status >= 400, f"HTTP {status}", ""
    retry = status >= 500 or code.startswith(ALIYUN_RETRY)
    return False, not retry, f"aliyun error {code}: {doc.get('Message', '')}"[:300], ""


def _tencent_answer(status: int, doc: dict[str, Any]) -> tuple[bool, bool, str, str]:
    found = doc.get("Response")
    resp: dict[str, Any] = found if isinstance(found, dict) else {}
    error = resp.get("Error")
    if isinstance(error, dict):
        code = str(error.get("Code", ""))
        return False, not code.startswith(TENCENT_RETRY), f"tencent error {code}: {error.get('Message', '')}"[:300], ""
    if status >= 300:
        return False, not (status >= 500 or status == 429), f"HTTP {status}", ""
    statuses = resp.get("SendStatusSet") or [{}]
    first = statuses[0] if isinstance(statuses[0], dict) else {}
    code = str(first.get("Code", ""))
    if code == "Ok":
        return True, False, "ok", str(first.get("SerialNo", ""))
    return False, not code.startswith(TENCENT_RETRY), f"tencent error {code}: {first.get('Message', '')}"[:300], ""


def _twilio_answer(status: int, doc: dict[str, Any]) -> tuple[bool, bool, str, str]:
    if 200 <= status < 300:
        return True, False, "ok", str(doc.get("sid", ""))
    retry = status >= 500 or status == 429
    return False, not retry, f"twilio HTTP {status} error {doc.get('code', '?')}: {doc.get('message', '')}"[:300], ""


def phone_answer(channel: Channel, status: int, body: bytes) -> tuple[bool, bool, str, str]:
    """(ok, permanent failure, detail, the provider's message or call id)."""
    doc = _doc(body)
    if channel.kind.startswith("aliyun-"):
        return _aliyun_answer(status, doc)
    if channel.kind == "tencent-sms":
        return _tencent_answer(status, doc)
    return _twilio_answer(status, doc)
