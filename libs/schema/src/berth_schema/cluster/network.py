"""CIDR arithmetic of the cluster creation form: parsing, overlaps, pod capacity, service IP."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network

# Ranges the creation form recommends for the container network (10.0.0.0/12~19, ...).
RECOMMENDED_POD_RANGES: tuple[tuple[str, int, int], ...] = (
    ("10.0.0.0", 12, 19),
    ("172.16.0.0", 16, 19),
    ("192.168.0.0", 16, 19),
)
# Addresses a subnet keeps for itself (network, gateway, DNS, broadcast and two reserved),
# so a /24 shows "250 available IPs" as the form does.
SUBNET_RESERVED_IPS = 6
# Extra addresses an HA control plane takes from the node subnet.
HA_CONTROL_PLANE_IPS = 4


def parse_cidr(value: str) -> IPv4Network:
    """A strict IPv4 CIDR (host bits must be zero); ValueError with a readable reason."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR ({exc})") from None
    if not isinstance(net, IPv4Network):
        raise ValueError(f"{value!r} is not an IPv4 CIDR")
    return net


def pod_capacity(net: IPv4Network) -> int:
    """The estimated number of pods a container CIDR holds (a /16 holds 65533, as the form shows)."""
    return max(net.num_addresses - 3, 0)


def subnet_available_ips(net: IPv4Network) -> int:
    return max(net.num_addresses - SUBNET_RESERVED_IPS, 0)


def service_ip(net: IPv4Network) -> IPv4Address:
    """The ClusterIP of the ``kubernetes`` Service: the first host address of the service CIDR."""
    return net.network_address + 1


def dns_ip(net: IPv4Network) -> IPv4Address:
    """The conventional cluster DNS address (the tenth address, as kubeadm does)."""
    return net.network_address + 10


def auto_pod_cidr(*, needed_pods: int, avoid: list[IPv4Network]) -> IPv4Network | None:
    """The first recommended range that holds ``needed_pods`` and overlaps none of ``avoid``."""
    for base, widest, narrowest in RECOMMENDED_POD_RANGES:
        for prefix in range(narrowest, widest - 1, -1):
            candidate = IPv4Network(f"{base}/{prefix}")
            if pod_capacity(candidate) < needed_pods:
                continue
            if not any(candidate.overlaps(other) for other in avoid):
                return candidate
    return None
