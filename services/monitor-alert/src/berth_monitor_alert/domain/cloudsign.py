"""Request signing for the SMS and voice providers, as each provider verifies it.

Alibaba Cloud, signature V3 ``ACS3-HMAC-SHA256`` (help.aliyun.com "V3版本请求体&签名机制"):
  CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n
                     SignedHeaders \\n HashedRequestPayload
  - CanonicalQueryString: parameters sorted by name, name and value percent-encoded per RFC 3986
    (space %20, ``*`` %2A, ``~`` kept), ``name=value`` joined by ``&``;
  - CanonicalHeaders: ``host``, ``content-type`` and every ``x-acs-*`` header, names lowercased,
    values trimmed, sorted, each ``name:value\\n``; SignedHeaders: those names joined by ``;``;
  - HashedRequestPayload = hex SHA-256 of the body, also sent as ``x-acs-content-sha256``;
  StringToSign = "ACS3-HMAC-SHA256\\n" + hex(SHA-256(CanonicalRequest));
  Signature = hex(HMAC-SHA256(AccessKeySecret, StringToSign));
  Authorization: ``ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<...>,Signature=<...>``.

Tencent Cloud API 3.0, ``TC3-HMAC-SHA256`` (cloud.tencent.com/document/api/382/52072 "签名方法 v3"):
  CanonicalRequest = METHOD \\n "/" \\n CanonicalQueryString ("" for POST) \\n CanonicalHeaders \\n
                     SignedHeaders \\n hex(SHA-256(payload)); CanonicalHeaders: names AND values
                     lowercased and trimmed, sorted, ``name:value\\n`` (here ``content-type``,
                     ``host`` and ``x-tc-action``);
  CredentialScope = <UTC date of X-TC-Timestamp>/<service>/tc3_request;
  StringToSign = "TC3-HMAC-SHA256\\n" + timestamp + "\\n" + CredentialScope + "\\n" + hex(SHA-256(CanonicalRequest));
  SecretDate = HMAC-SHA256("TC3" + SecretKey, date); SecretService = HMAC-SHA256(SecretDate, service);
  SecretSigning = HMAC-SHA256(SecretService, "tc3_request");
  Signature = hex(HMAC-SHA256(SecretSigning, StringToSign));
  Authorization: ``TC3-HMAC-SHA256 Credential=<SecretId>/<scope>, SignedHeaders=<...>, Signature=<...>``.

The fakes in the tests verify with these same functions' published vectors pinned in unit tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

ACS3 = "ACS3-HMAC-SHA256"
TC3 = "TC3-HMAC-SHA256"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="-_.~")


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params))


def canonical_headers(headers: Mapping[str, str], *, include: tuple[str, ...]) -> tuple[str, str]:
    """(CanonicalHeaders, SignedHeaders) of the headers whose lowercase name is in ``include`` or
    starts with one of its entries ending in ``-``."""
    chosen = {
        k.lower(): " ".join(v.split())
        for k, v in headers.items()
        if k.lower() in include or any(p.endswith("-") and k.lower().startswith(p) for p in include)
    }
    names = sorted(chosen)
    return "".join(f"{n}:{chosen[n]}\n" for n in names), ";".join(names)


ACS3_HEADERS = ("host", "content-type", "x-acs-")


def acs3_signature(*, method: str, path: str, query: str, headers: Mapping[str, str], secret: str) -> tuple[str, str]:
    """(SignedHeaders, Signature) for a request whose headers already carry ``x-acs-content-sha256``."""
    canon_headers, signed = canonical_headers(headers, include=ACS3_HEADERS)
    payload_hash = next(v for k, v in headers.items() if k.lower() == "x-acs-content-sha256")
    canonical = "\n".join([method.upper(), path or "/", query, canon_headers, signed, payload_hash])
    string_to_sign = f"{ACS3}\n{sha256_hex(canonical.encode())}"
    return signed, hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def acs3_authorization(access_key_id: str, signed_headers: str, signature: str) -> str:
    return f"{ACS3} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"


def acs3_headers(
    *,
    host: str,
    action: str,
    version: str,
    params: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
    date: datetime,
    nonce: str,
) -> tuple[str, dict[str, str]]:
    """The canonical query string to send and the signed headers of an RPC-style call."""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": sha256_hex(body),
    }
    query = canonical_query(params.items())
    signed, signature = acs3_signature(method="POST", path="/", query=query, headers=headers, secret=secret)
    headers["Authorization"] = acs3_authorization(access_key_id, signed, signature)
    return query, headers


TC3_HEADERS = ("content-type", "host", "x-tc-action")


def tc3_canonical_request(*, method: str, query: str, headers: Mapping[str, str], payload: bytes) -> tuple[str, str]:
    """(CanonicalRequest, SignedHeaders); ``headers`` are the signed ones, values as sent."""
    lowered = {k.lower(): v.lower() for k, v in headers.items()}
    canon_headers, signed = canonical_headers(lowered, include=tuple(lowered))
    canonical = "\n".join([method.upper(), "/", query, canon_headers, signed, sha256_hex(payload)])
    return canonical, signed


def tc3_signature(*, secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    secret_date = _hmac(f"TC3{secret_key}".encode(), date)
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    return hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_string_to_sign(*, timestamp: int, scope: str, canonical_request: str) -> str:
    return f"{TC3}\n{timestamp}\n{scope}\n{sha256_hex(canonical_request.encode())}"


def tc3_headers(
    *,
    host: str,
    service: str,
    action: str,
    version: str,
    region: str,
    payload: bytes,
    secret_id: str,
    secret_key: str,
    timestamp: int,
) -> dict[str, str]:
    """Signed headers of a POST with a JSON body."""
    signed_part = {"Content-Type": "application/json; charset=utf-8", "Host": host, "X-TC-Action": action}
    canonical, signed = tc3_canonical_request(method="POST", query="", headers=signed_part, payload=payload)
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    sts = tc3_string_to_sign(timestamp=timestamp, scope=scope, canonical_request=canonical)
    signature = tc3_signature(secret_key=secret_key, date=date, service=service, string_to_sign=sts)
    return {
        **signed_part,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": region,
        "Authorization": f"{TC3} Credential={secret_id}/{scope}, SignedHeaders={signed}, Signature={signature}",
    }
