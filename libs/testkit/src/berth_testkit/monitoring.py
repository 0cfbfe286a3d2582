"""Debian's Prometheus and Alertmanager on loopback ports, with configs written per test."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .parts import binary
from .probes import http_ok
from .procs import Proc, free_port


@dataclass
class Alertmanager:
    """Routes every alert to ``webhook_urls`` (version-4 webhooks) with short group timers."""

    work_dir: Path
    webhook_urls: Sequence[str] = ()
    group_wait: str = "0s"
    group_interval: str = "1s"
    repeat_interval: str = "1h"
    port: int = field(default_factory=free_port)
    proc: Proc | None = None
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        receiver: dict[str, Any] = {"name": "berth"}
        if self.webhook_urls:
            receiver["webhook_configs"] = [
                {"url": url, "send_resolved": True, "max_alerts": 0} for url in self.webhook_urls
            ]
        return {
            "route": {
                "receiver": "berth",
                "group_by": ["alertname"],
                "group_wait": self.group_wait,
                "group_interval": self.group_interval,
                "repeat_interval": self.repeat_interval,
            },
            "receivers": [receiver],
        }

    def start(self) -> Alertmanager:
        began = time.monotonic()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "alertmanager.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self.proc = Proc(
            "alertmanager",
            [
                binary("prometheus-alertmanager"),
                f"--config.file={config}",
                f"--storage.path={self.work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=info",
            ],
            log_dir=self.work_dir,
        ).start()
        self.proc.wait_ready(lambda: http_ok(f"{self.url}/-/ready"), timeout=30, what="(/-/ready)")
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@dataclass
class Prometheus:
    """``rule_groups`` become one rule file; ``alertmanagers`` are host:port or http URLs;
    ``scrape_targets`` maps a job name to host:port targets (Prometheus scrapes itself too)."""

    work_dir: Path
    rule_groups: Sequence[Mapping[str, Any]] = ()
    alertmanagers: Sequence[str] = ()
    scrape_targets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    interval: str = "1s"
    port: int = field(default_factory=free_port)
    proc: Proc | None = None
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "global": {"scrape_interval": self.interval, "evaluation_interval": self.interval},
            "scrape_configs": [
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{self.port}"]}]},
                *(
                    {"job_name": job, "static_configs": [{"targets": list(targets)}]}
                    for job, targets in self.scrape_targets.items()
                ),
            ],
        }
        if self.rule_groups:
            rules = self.work_dir / "rules.yml"
            rules.write_text(yaml.safe_dump({"groups": [dict(g) for g in self.rule_groups]}))
            cfg["rule_files"] = [str(rules)]
        if self.alertmanagers:
            targets = [a.removeprefix("http://").rstrip("/") for a in self.alertmanagers]
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": targets}]}]}
        return cfg

    def start(self) -> Prometheus:
        began = time.monotonic()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self.proc = Proc(
            "prometheus",
            [
                binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--web.enable-admin-api",
            ],
            log_dir=self.work_dir,
        ).start()
        self.proc.wait_ready(lambda: http_ok(f"{self.url}/-/ready"), timeout=60, what="(/-/ready)")
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
