"""Which web addresses point inside the server's own networks, told from the address alone.

An organizer's webhook may aim at the host that runs the bot (`http://127.0.0.1:9/`,
`http://localhost/`, `http://10.0.0.1/`, the cloud metadata `169.254.169.254`): refused when it is
added, so the organizer learns at once. A name that resolves inside is caught again at delivery
(`adapters/webhooks.py`), since only a lookup can tell, and a lookup is I/O.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the shorthand forms resolvers accept too: `127.1`, `2130706433`, `0x7f.1`
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def points_inside(url: str) -> bool:
    """True when the URL's host is a literal address that isn't global, or a local name."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if not host:
        return False
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return True
    ip = _literal_ip(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global
