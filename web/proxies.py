"""Where a request really comes from when the website sits behind reverse proxies.

A proxy in front of a web node (nginx, Caddy, a load balancer terminating TLS) connects to the
node itself: the peer address is the proxy's and the scheme plain HTTP. For a request whose
peer is one of the node's ``trusted_proxies`` (cluster.yaml), the client is the nearest address
in ``X-Forwarded-For`` that is not itself a trusted proxy, and the scheme is
``X-Forwarded-Proto``. From any other peer these headers are ignored: a client can write
whatever it likes in them. The failed-login throttle counts per :attr:`Origin.address`, and the
session cookie is marked ``Secure`` when :attr:`Origin.scheme` is ``https``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from tornado.httputil import HTTPServerRequest


@dataclass(frozen=True)
class Origin:
    """The client's address and the scheme it used."""

    address: str
    scheme: str


class TrustedProxies:
    """The reverse proxies a web node believes (networks such as ``10.0.0.7/32``)."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(network) for network in networks)

    def origin(self, request: HTTPServerRequest) -> Origin:
        """Where ``request`` comes from (see the module doc)."""
        peer = request.remote_ip
        if not self._trusts(peer):
            return Origin(peer, request.protocol)
        address = peer
        for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
            hop = hop.strip()
            if not _is_address(hop):
                break  # a hop that is no address: keep the last good one
            address = hop
            if not self._trusts(hop):
                break
        scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return Origin(address, scheme if scheme in ("http", "https") else request.protocol)

    def _trusts(self, address: str | None) -> bool:
        if not self._networks or not _is_address(address):
            return False
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self._networks)


def _is_address(value: str | None) -> bool:
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return False
    return True
