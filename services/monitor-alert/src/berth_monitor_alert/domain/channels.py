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
CHAR_LIMITS: dict[str, int] = {"slack": 40_000}  # Slack truncates text after 40,000 characters
WECOM_TEXT_LIMIT = 2_048
DEFAULT_RATES: dict[str, int] = {"dingtalk": 20, "wecom": 20, "feishu": 100, "slack": 60}


def rate(ch: Channel) -> int | None:
    """Messages per minute the channel may take (its own setting or the platform's default)."""
    return ch.rate_per_minute or DEFAULT_RATES.get(ch.kind)


def limit(ch: Channel) -> tuple[int, Literal["bytes", "chars"]]:
    """The largest message the platform accepts, and whether it counts bytes or characters."""
    if ch.kind in CHAR_LIMITS:
        return CHAR_LIMITS[ch.kind], "chars"
    if ch.kind == "wecom" and ch.format == "text":
        return WECOM_TEXT_LIMIT, "bytes"
    return BYTE_LIMITS[ch.kind], "bytes"
