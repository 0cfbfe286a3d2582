"""dr-switcher test harness: loopback HTTP "sites", a PowerDNS zone, the running service."""
