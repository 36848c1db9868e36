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

# Dots that URL parsers and resolvers read as "." (IDNA): `127。0。0。1` is 127.0.0.1.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
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
        host = (urlsplit(url.translate(_DOTS)).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if not host:
        return False
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return True
    ip = _literal_ip(host)
    return ip is not None and address_inside(ip)


def address_inside(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not a global address, itself or the IPv4 address an IPv6 one carries (mapped,
    6to4, NAT64, IPv4-compatible), which a gateway on the way may deliver to."""
    if not ip.is_global:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        carried = [ip.ipv4_mapped, ip.sixtofour]
        if ip in _NAT64 or ip in _COMPATIBLE:
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return any(v4 is not None and not v4.is_global for v4 in carried)
    return False
