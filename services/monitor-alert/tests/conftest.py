"""monitor-alert test fixtures: fake chat robots and SMTP (third-party SaaS only)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ma_fakes.chat import ChatFakes
from ma_fakes.smtp import SmtpFake


@pytest.fixture
async def chat() -> AsyncIterator[ChatFakes]:
    fakes = await ChatFakes(
        dingtalk={"tok-1": "SECdingtalk-secret"},
        wecom={"key-1"},
        feishu={"hook-1": "feishu-secret"},
        webhook_secret="hook-secret",
    ).start()
    yield fakes
    await fakes.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpFake]:
    fake = SmtpFake().start()
    yield fake
    fake.stop()
