"""Fake SMS and voice providers: Alibaba Cloud (Dysmsapi SendSms, Dyvmsapi SingleCallByTts),
Tencent Cloud SMS (SendSms, API 3.0) and Twilio (Messages, Calls), each an aiohttp server.

Each verifies a request the way its provider does, recomputing the signature from the request it
received and the account's secret (written here independently of the service's signer; both
are pinned to the providers' published vectors in test_domain_phone.py), and answers a wrong
one with that provider's error shape:
- Alibaba ACS3-HMAC-SHA256: HTTP 400 ``{"Code": "SignatureDoesNotMatch", ...}``; unknown key
  404 ``InvalidAccessKeyId.NotFound``; body hash mismatch ``ContentSHA256NotMatch``; a date more
  than 15 minutes off ``InvalidTimeStamp.Expired``; a reused nonce ``SignatureNonceUsed``; more
  than ``per_minute`` messages to one number: HTTP 200 ``isv.BUSINESS_LIMIT_CONTROL``.
- Tencent TC3-HMAC-SHA256: HTTP 200 ``{"Response": {"Error": {"Code": "AuthFailure.SignatureFailure"}}}``;
  a timestamp more than 5 minutes off ``AuthFailure.SignatureExpire``; unknown SecretId
  ``AuthFailure.SecretIdNotFound``; over the per-number limit, the number's SendStatus code
  ``LimitExceeded.PhoneNumberThirtySecondLimit``.
- Twilio basic auth: HTTP 401 ``{"code": 20003, "message": "Authenticate"}``.
``fail_next`` makes the next N requests answer as the provider's overloaded service does.
A Twilio call's TwiML ``<Gather action=...>`` can be "answered" with ``press``: the fake posts
the digits to the action URL signed with X-Twilio-Signature, as Twilio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web


@dataclass
class Got:
    action: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class _Server:
    clock: Callable[[], float] = time.time
    per_minute: int = 1
    fail_next: int = 0
    received: list[Got] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    failures: int = 0
    _sent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _limited(self, number: str) -> bool:
        now = self.clock()
        sent = self._sent[number]
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= self.per_minute:
            return True
        sent.append(now)
        return False

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> _Server:
        app = web.Application()
        app.add_routes(self.routes())
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def _rfc3986(value: str) -> str:
    return quote(value, safe="-_.~")


def _hex_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Alibaba Cloud --------------------------------------------------------------------------
def aliyun_expected_signature(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], signed: list[str], secret: str
) -> str:
    """ACS3-HMAC-SHA256 as Alibaba Cloud recomputes it from a received request."""
    canon_query = "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in sorted(query.items()))
    lower = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join(f"{n}:{lower.get(n, '').strip()}\n" for n in signed)
    canonical = "\n".join(
        [method, path, canon_query, canon_headers, ";".join(signed), lower.get("x-acs-content-sha256", "")]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + _hex_sha256(canonical.encode())
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class AliyunFake(_Server):
    keys: dict[str, str] = field(default_factory=dict)  # AccessKeyId -> AccessKeySecret
    templates: dict[str, set[str]] = field(default_factory=dict)  # TemplateCode/TtsCode -> variables
    _nonces: set[str] = field(default_factory=set)

    def of(self, action: str) -> list[Got]:
        return [g for g in self.received if g.action == action]

    def _error(self, status: int, code: str, message: str, request: web.Request) -> web.Response:
        self.rejected.append(code)
        body = {"RequestId": str(uuid.uuid4()), "HostId": request.host, "Code": code, "Message": message}
        return web.json_response(body, status=status)

    def _authenticate(self, request: web.Request, body: bytes) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        algo, _, rest = auth.partition(" ")
        fields = dict(p.split("=", 1) for p in rest.split(",") if "=" in p)
        if algo != "ACS3-HMAC-SHA256" or not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
            return self._error(
                400, "IncompleteSignature", "The request signature does not conform to standards.", request
            )
        secret = self.keys.get(fields["Credential"])
        if secret is None:
            return self._error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", request)
        signed = fields["SignedHeaders"].split(";")
        present = {k.lower() for k in request.headers if k.lower().startswith("x-acs-")} | {"host"}
        if signed != sorted(signed) or not present <= set(signed):
            return self._error(400, "IncompleteSignature", "Every x-acs-* header and host must be signed.", request)
        if request.headers.get("x-acs-content-sha256") != _hex_sha256(body):
            return self._error(400, "ContentSHA256NotMatch", "x-acs-content-sha256 does not match the body.", request)
        try:
            at = datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return self._error(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.", request)
        if abs(at.timestamp() - self.clock()) > 900:
            return self._error(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", request
            )
        expected = aliyun_expected_signature(
            request.method, request.path, dict(request.query), dict(request.headers), signed, secret
        )
        if not hmac.compare_digest(expected, fields["Signature"]):
            return self._error(
                400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.", request
            )
        nonce = request.headers.get("x-acs-signature-nonce", "")
        if not nonce or nonce in self._nonces:
            return self._error(400, "SignatureNonceUsed", "Specified signature nonce was used already.", request)
        self._nonces.add(nonce)
        return None

    def _template_error(self, code: str, params: str) -> str | None:
        if not self.templates:
            return None
        if code not in self.templates:
            return "isv.SMS_TEMPLATE_ILLEGAL"
        try:
            given = json.loads(params or "{}")
        except ValueError:
            return "isv.INVALID_JSON_PARAM"
        return None if set(given) == self.templates[code] else "isv.TEMPLATE_MISSING_PARAMETERS"

    async def _api(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            return self._error(503, "ServiceUnavailable", "The request has failed due to a temporary failure.", request)
        denied = self._authenticate(request, body)
        if denied is not None:
            return denied
        action = request.headers.get("x-acs-action", "")
        q = dict(request.query)
        if action == "SendSms":
            need, number, code, params = (
                ("PhoneNumbers", "SignName", "TemplateCode"),
                q.get("PhoneNumbers", ""),
                q.get("TemplateCode", ""),
                q.get("TemplateParam", ""),
            )
        elif action == "SingleCallByTts":
            need, number, code, params = (
                ("CalledNumber", "TtsCode"),
                q.get("CalledNumber", ""),
                q.get("TtsCode", ""),
                q.get("TtsParam", ""),
            )
        else:
            return self._error(404, "InvalidAction.NotFound", f"Specified api {action!r} is not found.", request)
        missing = [n for n in need if not q.get(n)]
        if missing:
            return self._error(400, "MissingParameter", f"{missing[0]} is mandatory for this action.", request)
        bad = self._template_error(code, params)
        if bad:
            self.rejected.append(bad)
            return web.json_response({"RequestId": str(uuid.uuid4()), "Code": bad, "Message": bad})
        if self._limited(number):
            self.rejected.append("isv.BUSINESS_LIMIT_CONTROL")
            return web.json_response(
                {
                    "RequestId": str(uuid.uuid4()),
                    "Code": "isv.BUSINESS_LIMIT_CONTROL",
                    "Message": "触发分钟级流控Permits:1",
                }
            )
        self.received.append(Got(action, q, dict(request.headers)))
        ref = uuid.uuid4().hex[:20]
        answer = {"RequestId": str(uuid.uuid4()), "Code": "OK", "Message": "OK"}
        answer.update({"BizId": ref} if action == "SendSms" else {"CallId": ref})
        return web.json_response(answer)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/", self._api)]


# --- Tencent Cloud --------------------------------------------------------------------------
def tencent_expected_signature(
    *, method: str, raw_query: str, headers: Mapping[str, str], signed: list[str], payload: bytes,
    timestamp: str, scope: str, secret_key: str,
) -> str:  # fmt: skip
    """TC3-HMAC-SHA256 as Tencent Cloud recomputes it from a received request."""
    lower = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join(f"{n}:{lower.get(n, '').strip().lower()}\n" for n in signed)
    canonical = "\n".join([method, "/", raw_query, canon_headers, ";".join(signed), _hex_sha256(payload)])
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_hex_sha256(canonical.encode())}"
    date, service, _ = scope.split("/", 2)
    key = hmac.new(f"TC3{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    key = hmac.new(key, service.encode(), hashlib.sha256).digest()
    key = hmac.new(key, b"tc3_request", hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class TencentFake(_Server):
    keys: dict[str, str] = field(default_factory=dict)  # SecretId -> SecretKey

    def _error(self, code: str, message: str) -> web.Response:
        self.rejected.append(code)
        return web.json_response(
            {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}
        )

    def _authenticate(self, request: web.Request, body: bytes) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        algo, _, rest = auth.partition(" ")
        fields = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
        if algo != "TC3-HMAC-SHA256" or not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
            return self._error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        secret_id, _, scope = fields["Credential"].partition("/")
        secret_key = self.keys.get(secret_id)
        if secret_key is None:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        ts = request.headers.get("X-TC-Timestamp", "")
        if not ts.isdigit() or abs(int(ts) - self.clock()) > 300:
            return self._error(
                "AuthFailure.SignatureExpire",
                "Signature expired. Timestamp and server time cannot differ by more than 5 minutes.",
            )
        date = datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d")
        signed = fields["SignedHeaders"].split(";")
        if scope != f"{date}/sms/tc3_request" or not {"content-type", "host"} <= set(signed):
            return self._error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        expected = tencent_expected_signature(
            method=request.method, raw_query=request.rel_url.raw_query_string, headers=dict(request.headers),
            signed=signed, payload=body, timestamp=ts, scope=scope, secret_key=secret_key,
        )  # fmt: skip
        if not hmac.compare_digest(expected, fields["Signature"]):
            return self._error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. Please check your signature is correct.",
            )
        return None

    @staticmethod
    def _status(doc: dict[str, Any], number: str, serial: str, code: str) -> dict[str, Any]:
        return {
            "SerialNo": serial,
            "PhoneNumber": number,
            "Fee": 1 if serial else 0,
            "SessionContext": doc.get("SessionContext", ""),
            "Code": code,
            "IsoCode": "CN",
        }

    async def _api(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            return self._error("InternalError", "An internal error has occurred. Retry your request.")
        denied = self._authenticate(request, body)
        if denied is not None:
            return denied
        if request.headers.get("X-TC-Action") != "SendSms" or request.headers.get("X-TC-Version") != "2021-01-11":
            return self._error("InvalidAction", "The action or version is not supported.")
        doc = json.loads(body)
        for name in ("PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId"):
            if not doc.get(name):
                return self._error("MissingParameter", f"The request is missing a required parameter `{name}`.")
        if not all(isinstance(p, str) for p in doc.get("TemplateParamSet", [])):
            return self._error("InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet takes strings.")
        statuses = []
        for number in doc["PhoneNumberSet"]:
            if self._limited(number):
                self.rejected.append("LimitExceeded.PhoneNumberThirtySecondLimit")
                code = "LimitExceeded.PhoneNumberThirtySecondLimit"
                statuses.append({**self._status(doc, number, "", code), "Message": "the number is limited"})
                continue
            self.received.append(Got("SendSms", {**doc, "PhoneNumberSet": [number]}, dict(request.headers)))
            statuses.append({**self._status(doc, number, uuid.uuid4().hex, "Ok"), "Message": "send success"})
        return web.json_response({"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}})

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/", self._api)]


# --- Twilio ---------------------------------------------------------------------------------
def twilio_request_signature(url: str, params: Mapping[str, str], token: str) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Call:
    sid: str
    account: str
    to: str
    from_: str
    twiml: str

    @property
    def gather(self) -> ET.Element:
        found = ET.fromstring(self.twiml).find("Gather")
        assert found is not None, self.twiml
        return found

    @property
    def said(self) -> str:
        return " ".join(s.text or "" for s in self.gather.iter("Say"))


@dataclass
class TwilioFake(_Server):
    accounts: dict[str, str] = field(default_factory=dict)  # Account SID -> Auth Token
    messages: list[dict[str, str]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def _error(self, status: int, code: int, message: str) -> web.Response:
        self.rejected.append(str(code))
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status)

    def _authenticate(self, request: web.Request) -> web.Response | None:
        sid = request.match_info["sid"]
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            user = password = ""
        token = self.accounts.get(sid)
        if scheme != "Basic" or user != sid or token is None or not hmac.compare_digest(password, token):
            return self._error(401, 20003, "Authenticate")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            return self._error(429, 20429, "Too Many Requests")
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not form.get("To"):
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From"):
            return self._error(400, 21603, "A 'From' phone number is required.")
        sid = request.match_info["sid"]
        if request.match_info["resource"] == "Messages":
            if not form.get("Body"):
                return self._error(400, 21602, "Message body is required.")
            ref = "SM" + uuid.uuid4().hex
            self.messages.append({**form, "sid": ref})
        else:
            if not form.get("Twiml") and not form.get("Url"):
                return self._error(400, 21205, "Url or Twiml is required.")
            ref = "CA" + uuid.uuid4().hex
            self.calls.append(Call(ref, sid, form["To"], form["From"], form.get("Twiml", "")))
        self.received.append(Got(request.match_info["resource"], form, dict(request.headers)))
        return web.json_response(
            {"sid": ref, "account_sid": sid, "to": form["To"], "from": form["From"], "status": "queued"}, status=201
        )

    async def press(self, call: Call, digits: str, *, tamper: bool = False) -> int:
        """Do what Twilio does when the callee presses ``digits``: POST the Gather action, signed."""
        action = call.gather.get("action", "")
        params = {"AccountSid": call.account, "CallSid": call.sid, "From": call.from_, "To": call.to}
        params.update(Called=call.to, CallStatus="in-progress", Direction="outbound-api", Digits=digits)
        signature = twilio_request_signature(action, params, self.accounts[call.account])
        if tamper:  # a forger who changed what was pressed, or does not know the Auth Token
            params["Digits"] = "1" if digits != "1" else "9"
        async with (
            aiohttp.ClientSession() as http,
            http.post(action, data=params, headers={"X-Twilio-Signature": signature}) as resp,
        ):
            return resp.status

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/2010-04-01/Accounts/{sid}/{resource:Messages|Calls}.json", self._create)]
