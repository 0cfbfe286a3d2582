"""What each platform accepts from a channel: message size limits and default send rates.
The channel itself (``Channel``) is part of the schema (``berth_schema.alert.channels``)."""

from __future__ import annotations

from typing import Literal

from berth_schema.alert.channels import Channel

# Per-platform message limits (documented by each platform).
BYTE_LIMITS: dict[str, int] = {
    "dingtalk": 20_000,  # DingTalk robot: message body up to 20000 bytes
    "wecom": 4_096,  # WeCom robot markdown content up to 4096 bytes (text: 2048)
    "feishu": 30_000,  # Feishu custom bot request body up to 30 KB (we keep content under)
    "webhook": 256_000,
    "email": 1_000_000,
}
CHAR_LIMITS: dict[str, int] = {
    "slack": 40_000,  # Slack truncates text after 40,000 characters
    "twilio-sms": 1_600,  # Twilio Messages: Body up to 1,600 characters
    "twilio-voice": 4_000,  # TwiML <Say>: up to 4,096 characters
    # provider-side templates: the text is only previewed, parameters carry the alert
    "aliyun-sms": 500,
    "aliyun-voice": 500,
    "tencent-sms": 500,
}
WECOM_TEXT_LIMIT = 2_048
DEFAULT_RATES: dict[str, int] = {"dingtalk": 20, "wecom": 20, "feishu": 100, "slack": 60}
# Phone channels: per RECIPIENT a minute. Alibaba's default flow control allows one SMS a minute
# to a number (isv.BUSINESS_LIMIT_CONTROL beyond), Tencent one per 30 s with the same content;
# calling or texting someone more often than once a minute only adds noise.
PHONE_RATES: dict[str, int] = {
    "aliyun-sms": 1,
    "aliyun-voice": 1,
    "tencent-sms": 1,
    "twilio-sms": 1,
    "twilio-voice": 1,
}


def rate(ch: Channel) -> int | None:
    """Messages per minute the channel may take (its own setting or the platform's default);
    for phone channels, per recipient."""
    return ch.rate_per_minute or DEFAULT_RATES.get(ch.kind) or PHONE_RATES.get(ch.kind)


def limit(ch: Channel) -> tuple[int, Literal["bytes", "chars"]]:
    """The largest message the platform accepts, and whether it counts bytes or characters."""
    if ch.kind in CHAR_LIMITS:
        return CHAR_LIMITS[ch.kind], "chars"
    if ch.kind == "wecom" and ch.format == "text":
        return WECOM_TEXT_LIMIT, "bytes"
    return BYTE_LIMITS[ch.kind], "bytes"
