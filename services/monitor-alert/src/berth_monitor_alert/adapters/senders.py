"""Deliver one built message part: HTTP POST to a robot or an SMS / voice provider, or an email
over SMTP."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage

import aiohttp
import aiosmtplib
from berth_schema.alert.channels import Channel
from yarl import URL

from ..domain.outbound import EmailMessage, HttpRequest, Outbound, accepted
from ..domain.phone import phone_answer


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    permanent: bool
    detail: str
    ref: str = ""  # the provider's message or call id (phone channels)


class Sender:
    """Shared HTTP session; one instance per service process."""

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, channel: Channel, message: Outbound) -> SendResult:
        try:
            if isinstance(message, HttpRequest):
                return await self._post(channel, message)
            return await self._mail(channel, message)
        except (aiohttp.ClientError, aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The URL may carry a token (DingTalk access_token, WeCom key): name the error only.
            return SendResult(False, False, f"{type(exc).__name__}: {_safe(str(exc), channel)}")

    async def _post(self, channel: Channel, req: HttpRequest) -> SendResult:
        session = await self._http()
        url: str | URL = URL(req.url, encoded=True) if req.encoded else req.url
        async with session.post(url, data=req.body, headers=req.headers) as resp:
            body = await resp.read()
            if channel.phone:
                ok, permanent, detail, ref = phone_answer(channel, resp.status, body)
                return SendResult(ok, permanent, _safe(detail, channel), ref)
            ok, permanent, detail = accepted(channel, resp.status, body)
            return SendResult(ok, permanent, detail)

    async def _mail(self, channel: Channel, msg: EmailMessage) -> SendResult:
        mime = MimeMessage()
        mime["From"] = msg.sender
        mime["To"] = ", ".join(msg.recipients)
        mime["Subject"] = msg.subject
        mime.set_content(msg.text)
        password = channel.secret.get_secret_value() if channel.secret else None
        await aiosmtplib.send(
            mime,
            hostname=channel.smtp_host,
            port=channel.smtp_port,
            username=channel.smtp_username or None,
            password=password if channel.smtp_username else None,
            start_tls=channel.smtp_starttls,
            timeout=self._timeout.total,
        )
        return SendResult(True, False, "ok")


def _safe(text: str, channel: Channel) -> str:
    """Remove the channel URL's query (tokens) and the secret from an error text."""
    if channel.url:
        text = text.replace(channel.url, channel.url.split("?", 1)[0])
    if channel.secret:
        text = text.replace(channel.secret.get_secret_value(), "***")
    return text[:500]
