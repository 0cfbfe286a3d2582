"""Provider callbacks about calls, and how their senders are authenticated.

Twilio signs every request it makes to a webhook (twilio.com/docs/usage/security, "Validating
signatures from Twilio"): take the full URL Twilio requested, query string included; append each
POST parameter, sorted by name, as name followed by value with no delimiters; HMAC-SHA1 that
string keyed by the account's Auth Token; Base64. The result arrives as ``X-Twilio-Signature``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
CALL_HOOK_PATH = "/hooks/twilio/call"  # the gateway route Twilio's <Gather> posts a key press to


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_signature(url: str, params: Mapping[str, str], auth_token: str, signature: str) -> bool:
    return bool(signature) and hmac.compare_digest(twilio_signature(url, params, auth_token), signature)


def callback_query(query: str) -> dict[str, str]:
    """The parameters Berth put in a call's callback URL (tenant, channel, notification)."""
    return dict(parse_qsl(query, keep_blank_values=True))
