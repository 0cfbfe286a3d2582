"""Payloads of the inbound hooks the gateway receives from outside Berth: Alertmanager's webhook
(``alertmanager``), registry notifications (``registry``) and the chat platforms' robot callbacks
(``chatops``). They are not bus messages: the gateway validates a hook body against these and
forwards it as the owning service's ``ingest-webhook`` command, whose service parses it again
with the same model. Third parties add fields over time, so these ignore fields they do not name."""

from .alertmanager import AlertmanagerAlert, AlertmanagerPayload, parse_alertmanager
from .errors import HookPayloadInvalid
from .registry import (
    ACCEPTED_TYPES,
    EVENTS_V1,
    EVENTS_V2,
    DistributionNotification,
    HarborNotification,
    RegistryNotification,
    parse_registry_notification,
)

__all__ = [
    "ACCEPTED_TYPES",
    "EVENTS_V1",
    "EVENTS_V2",
    "AlertmanagerAlert",
    "AlertmanagerPayload",
    "DistributionNotification",
    "HarborNotification",
    "HookPayloadInvalid",
    "RegistryNotification",
    "parse_alertmanager",
    "parse_registry_notification",
]
