"""Where a request really comes from when the website sits behind reverse proxies.

A proxy in front of a web node (nginx, Caddy, a load balancer terminating TLS) connects to the
node itself: the peer address is the proxy's and the scheme plain HTTP. For a request whose
peer is one of the node's ``trusted_proxies`` (cluster.yaml), the client is the nearest address
in ``X-Forwarded-For`` that is not itself a trusted proxy (written with or without a port, an
IPv4-mapped address as IPv4), and the scheme is the nearest ``X-Forwarded-Proto``. From any
other peer these headers are ignored: a client can write whatever it likes in them. The
failed-login throttle counts per :attr:`Origin.address`, and the session cookie is marked
``Secure`` when :attr:`Origin.scheme` is ``https``.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from tornado.httputil import HTTPServerRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """The client's address and the scheme it used."""

    address: str
    scheme: str


@functools.lru_cache(maxsize=4096)
def client_network(address: str) -> str:
    """What a client at ``address`` is counted as (its failed guesses: logins, reference
    codes): an IPv4 address as it is, an IPv6 address as its /64 (one subscriber's network:
    a client can pick any address in it); anything but an IP address (a Unix socket's peer)
    as it is."""
    ip = _ip(address)
    if ip is None:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class TrustedProxies:
    """The reverse proxies a web node believes (networks such as ``10.0.0.7/32``)."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(network) for network in networks)

    def origin(self, request: HTTPServerRequest) -> Origin:
        """Where ``request`` comes from (see the module doc)."""
        peer = request.remote_ip or ""  # None only for a connection without a peer address
        if not self._trusts(_ip(peer)):
            return Origin(peer, request.protocol)
        address = _ip(peer)
        for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
            ip = _ip(hop)
            if ip is None:
                log.warning(
                    "X-Forwarded-For hop %r is no address; the client is taken to be %s",
                    hop[:60],
                    address,
                )
                break
            address = ip
            if not self._trusts(ip):
                break
        scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        return Origin(str(address), scheme if scheme in ("http", "https") else request.protocol)

    def _trusts(self, ip: IPAddress | None) -> bool:
        return ip is not None and any(ip in network for network in self._networks)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=4096)  # the same few peers ask again and again
def _ip(text: str | None) -> IPAddress | None:
    """The address in ``text`` as proxies write it (``198.51.100.7``, ``198.51.100.7:5123``,
    ``[2001:db8::1]:443``, an IPv4-mapped IPv6 address), or None."""
    text = (text or "").strip()
    if text.startswith("["):
        text = text[1 : text.find("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
