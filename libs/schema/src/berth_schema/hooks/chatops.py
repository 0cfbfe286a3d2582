"""What the chat platforms POST to the gateway's robot hooks (only the fields Berth reads;
the platforms send many more). The gateway checks the signature first, then parses these."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import HookPayloadInvalid, first_error


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- DingTalk outgoing robot (JSON) -------------------------------------------------------------
class DingTalkText(_Open):
    content: str = ""


class DingTalkMessage(_Open):
    msgtype: str = "text"
    text: DingTalkText = Field(default_factory=DingTalkText)
    senderStaffId: str | None = None
    senderId: str | None = None
    conversationId: str | None = None

    @property
    def chat_user(self) -> str:
        return self.senderStaffId or self.senderId or ""


# --- Slack slash command (form-encoded) ---------------------------------------------------------
class SlackCommand(_Open):
    user_id: str = ""
    text: str = ""
    command: str = ""
    team_id: str = ""
    channel_id: str = ""
    response_url: str = ""


# --- Feishu / Lark event callback (JSON; schema 2.0, or 1.0 for url_verification) ---------------
class FeishuSenderId(_Open):
    user_id: str | None = None
    open_id: str | None = None
    union_id: str | None = None


class FeishuSender(_Open):
    sender_id: FeishuSenderId = Field(default_factory=FeishuSenderId)


class FeishuMessage(_Open):
    message_type: str = "text"
    content: str = "{}"

    @property
    def text(self) -> str:
        """The text of a text message (``content`` is itself JSON: ``{"text": "..."}``)."""
        try:
            data = json.loads(self.content)
        except ValueError:
            return ""
        return str(data.get("text", "")) if isinstance(data, dict) else ""


class FeishuEvent(_Open):
    sender: FeishuSender = Field(default_factory=FeishuSender)
    message: FeishuMessage = Field(default_factory=FeishuMessage)


class FeishuHeader(_Open):
    token: str = ""
    event_type: str = ""


class FeishuCallback(_Open):
    """An event callback after decryption: ``url_verification`` (v1: token at the top) or an
    ``im.message.receive_v1`` event (v2: token in the header)."""

    type: str | None = None
    token: str | None = None
    challenge: str = ""
    header: FeishuHeader = Field(default_factory=FeishuHeader)
    event: FeishuEvent = Field(default_factory=FeishuEvent)

    @property
    def verification_token(self) -> str:
        return self.token or self.header.token

    @property
    def chat_user(self) -> str:
        sender = self.event.sender.sender_id
        return sender.user_id or sender.open_id or ""


class FeishuEncrypted(_Open):
    encrypt: str = Field(min_length=1)


C = TypeVar("C", bound=BaseModel)


def parse_chat(model: type[C], body: Any) -> C:
    """Validate a decoded body against one of the models above; HookPayloadInvalid names the field."""
    if not isinstance(body, dict):
        raise HookPayloadInvalid("body", "must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise first_error(exc) from None


__all__ = [
    "DingTalkMessage",
    "FeishuCallback",
    "FeishuEncrypted",
    "SlackCommand",
    "parse_chat",
]
