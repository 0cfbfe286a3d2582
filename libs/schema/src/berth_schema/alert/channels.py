"""Notification channels: where a message goes (a chat robot, a webhook, an SMTP server, an SMS
or voice-call provider) and how it is shaped there. The put-channel command carries one;
``secret`` (a robot's signing secret, a webhook's HMAC key, the SMTP password, or a phone
provider's AccessKey secret / SecretKey / Auth Token) is a secret: masked in repr() and never
in ``public()``, carried in clear only in the command's JSON.

Phone channels (``PHONE_KINDS``) send one message or call per recipient (E.164 numbers):
- ``aliyun-sms``: Alibaba Cloud Dysmsapi SendSms (SignName, TemplateCode, TemplateParam JSON);
- ``aliyun-voice``: Alibaba Cloud Dyvmsapi SingleCallByTts (TtsCode, TtsParam JSON);
- ``tencent-sms``: Tencent Cloud SMS SendSms, API 3.0 (SmsSdkAppId, SignName, TemplateId,
  TemplateParamSet in ``template_params`` order);
- ``twilio-sms`` / ``twilio-voice``: Twilio Messages (Body = the rendered text) and Calls
  (TwiML that says the text inside a ``<Gather>``; a key press posts to ``callback_url`` and
  acknowledges the alert).
``url`` overrides the provider's public endpoint (tests point it at a local fake)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer, field_validator, model_validator

Kind = Literal[
    "dingtalk",
    "wecom",
    "feishu",
    "slack",
    "webhook",
    "email",
    "aliyun-sms",
    "aliyun-voice",
    "tencent-sms",
    "twilio-sms",
    "twilio-voice",
]
PHONE_KINDS: tuple[str, ...] = ("aliyun-sms", "aliyun-voice", "tencent-sms", "twilio-sms", "twilio-voice")
TEMPLATE_KINDS: tuple[str, ...] = ("aliyun-sms", "aliyun-voice", "tencent-sms")  # provider-side templates
E164 = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="an E.164 phone number, e.g. +8613800000000")]


class Mentions(BaseModel):
    """Who to @-mention. DingTalk: at.atMobiles / atUserIds / isAtAll; WeCom: mentioned_list
    (user ids, ``@all``) / mentioned_mobile_list; Feishu: ``<at user_id="...">`` in text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mobiles: list[str] = Field(default_factory=list)
    user_ids: list[str] = Field(default_factory=list)
    all: bool = False


class Channel(BaseModel):
    """One configured destination. ``secret`` is the robot's signing secret (DingTalk ``SEC...``,
    Feishu), the HMAC key of a generic webhook, or the SMTP password for email."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenant: str = Field(default="system", min_length=1, max_length=63)
    kind: Kind
    url: str = Field(default="", max_length=2048)
    secret: SecretStr | None = None
    format: Literal["text", "markdown"] = "markdown"
    mentions: Mentions = Field(default_factory=Mentions)
    timezone: str = "UTC"
    template: str | None = None
    title_template: str | None = None
    rate_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_attempts: int = Field(default=5, ge=1, le=50)
    escalate_after_minutes: int | None = Field(default=None, ge=1, le=10_080)
    escalate_to: str | None = None
    # email
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_starttls: bool = False
    email_from: str = ""
    email_to: list[str] = Field(default_factory=list)
    # SMS and voice calls
    access_key_id: str = Field(
        default="", max_length=128, description="Alibaba AccessKey ID, Tencent SecretId or Twilio Account SID"
    )
    sign_name: str = Field(default="", max_length=64, description="the SMS signature (Alibaba, Tencent)")
    sms_app_id: str = Field(default="", max_length=64, description="Tencent SmsSdkAppId")
    region: str = Field(default="", max_length=32, description="Tencent region (default ap-guangzhou)")
    template_code: str = Field(
        default="", max_length=64, description="Alibaba TemplateCode / TtsCode, Tencent TemplateId"
    )
    template_params: dict[str, str] = Field(
        default_factory=dict,
        max_length=32,
        description="template parameter name -> Jinja2 template rendered from the alerts (Tencent: in order)",
    )
    recipients: list[E164] = Field(default_factory=list, max_length=100)
    caller_id: str = Field(
        default="", max_length=32, description="Twilio From number, Alibaba CalledShowNumber (optional)"
    )
    callback_url: str = Field(
        default="", max_length=2048, description="twilio-voice: the public URL a key press is posted to"
    )
    ack_digit: str = Field(default="1", pattern=r"^[0-9*#]$", description="twilio-voice: the key that acknowledges")

    @field_serializer("secret", when_used="json")
    def _reveal(self, v: SecretStr | None) -> str | None:
        # JSON is the wire form of the put-channel command and must carry the secret; repr(),
        # str() and public() never do
        return v.get_secret_value() if v is not None else None

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # the tokens chat platforms put in a robot's URL are credentials too
        for name, value in super().__repr_args__():
            yield name, (masked_url(value, kind=self.kind) if name == "url" else value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
        return v

    @model_validator(mode="after")
    def _complete(self) -> Channel:
        if self.kind == "email":
            if not self.smtp_host:
                raise ValueError("smtp_host is required for an email channel")
            if not self.email_from or not self.email_to:
                raise ValueError("email_from and email_to are required for an email channel")
        elif self.kind in PHONE_KINDS:
            self._phone_complete()
        elif not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must be an http(s) URL for a {self.kind} channel")
        if (self.escalate_after_minutes is None) != (self.escalate_to is None):
            raise ValueError("escalate_after_minutes and escalate_to go together")
        if self.escalate_to == self.name:
            raise ValueError("escalate_to must name another channel")
        return self

    def _phone_complete(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url (the endpoint override) must be an http(s) URL for a {self.kind} channel")
        if not self.recipients:
            raise ValueError(f"recipients are required for a {self.kind} channel")
        if not self.access_key_id or self.secret is None:
            raise ValueError(f"access_key_id and secret (the provider credentials) are required for {self.kind}")
        if self.kind in TEMPLATE_KINDS and not self.template_code:
            raise ValueError(f"template_code is required for {self.kind}")
        if self.kind in ("aliyun-sms", "tencent-sms") and not self.sign_name:
            raise ValueError(f"sign_name is required for {self.kind}")
        if self.kind == "tencent-sms" and not self.sms_app_id:
            raise ValueError("sms_app_id is required for tencent-sms")
        if self.kind.startswith("twilio-") and not self.caller_id:
            raise ValueError(f"caller_id (the From number) is required for {self.kind}")
        if self.kind == "twilio-voice" and not self.callback_url.startswith(("http://", "https://")):
            raise ValueError("callback_url must be the public http(s) URL Twilio posts key presses to")

    @property
    def phone(self) -> bool:
        return self.kind in PHONE_KINDS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def public(self) -> dict[str, object]:
        """The channel as shown to users: the secret is never returned, the URL's tokens are masked."""
        data = self.model_dump(mode="json", exclude={"secret"})
        data["url"] = masked_url(self.url, kind=self.kind)
        data["has_secret"] = self.secret is not None
        return data

    def stored(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        data["secret"] = self.secret.get_secret_value() if self.secret else None
        return data


MASK = "***"
PATH_TOKEN_KINDS = ("feishu", "slack")  # these robots' URLs end in the token: .../hook/<token>


def masked_url(url: str, *, kind: str) -> str:
    """``url`` without its credentials: query values (DingTalk ``access_token``, WeCom ``key``),
    a password in the authority and, for Feishu and Slack, the trailing token are masked."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:{MASK}@{host}"
    query = urlencode([(k, MASK) for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    path = parts.path
    if kind in PATH_TOKEN_KINDS and path.rstrip("/"):
        head, _, _ = path.rstrip("/").rpartition("/")
        path = f"{head}/{MASK}"
    return urlunsplit((parts.scheme, netloc, path, query, ""))
