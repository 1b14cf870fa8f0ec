"""Where a request comes from behind reverse proxies: forwarded headers count only from a
trusted proxy."""

from __future__ import annotations

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from web.proxies import Origin, TrustedProxies, client_network

PROXIES = TrustedProxies(["10.0.0.0/24", "fd00::/64"])


def request_from(peer: str, **headers: str) -> HTTPServerRequest:
    """A request as Tornado's server builds it, from ``peer``, over plain HTTP."""
    start_line = RequestStartLine("POST", "/admin/login", "HTTP/1.1")
    request = HTTPServerRequest(
        headers=HTTPHeaders({"Host": "gather.example", **headers}), start_line=start_line
    )
    request.remote_ip = peer
    return request


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    forged = request_from("203.0.113.9", **{"X-Forwarded-For": "1.2.3.4"}, **_https())
    assert PROXIES.origin(forged) == Origin("203.0.113.9", "http")
    assert TrustedProxies([]).origin(request_from("10.0.0.5")) == Origin("10.0.0.5", "http")


def test_a_trusted_proxy_forwards_the_client_and_scheme() -> None:
    forwarded = request_from("10.0.0.5", **{"X-Forwarded-For": "198.51.100.7"}, **_https())
    assert PROXIES.origin(forwarded) == Origin("198.51.100.7", "https")
    ipv6 = request_from("fd00::2", **{"X-Forwarded-For": "2001:db8::1"})
    assert PROXIES.origin(ipv6) == Origin("2001:db8::1", "http")


def test_the_client_is_the_nearest_hop_that_is_not_a_trusted_proxy() -> None:
    chain = "1.2.3.4, 198.51.100.7, 10.0.0.9"  # a forged first hop, the client, a 2nd proxy
    assert PROXIES.origin(request_from("10.0.0.5", **{"X-Forwarded-For": chain})).address == (
        "198.51.100.7"
    )
    only_proxies = request_from("10.0.0.5", **{"X-Forwarded-For": "10.0.0.9"})
    assert PROXIES.origin(only_proxies).address == "10.0.0.9"


def test_malformed_forwarded_headers_fall_back_to_what_is_known() -> None:
    garbage = request_from(
        "10.0.0.5", **{"X-Forwarded-For": "<script>, unknown", "X-Forwarded-Proto": "gopher"}
    )
    assert PROXIES.origin(garbage) == Origin("10.0.0.5", "http")
    bad_hop = request_from("10.0.0.5", **{"X-Forwarded-For": "198.51.100.7, nonsense, 10.0.0.9"})
    assert PROXIES.origin(bad_hop).address == "10.0.0.9"


def test_addresses_are_read_as_proxies_write_them() -> None:
    for written, client in [
        ("198.51.100.7:5123", "198.51.100.7"),
        ("[2001:DB8::1]:443", "2001:db8::1"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ]:
        request = request_from("10.0.0.5", **{"X-Forwarded-For": written})
        assert PROXIES.origin(request).address == client
    mapped_proxy = request_from("::ffff:10.0.0.5", **{"X-Forwarded-For": "198.51.100.7"})
    assert PROXIES.origin(mapped_proxy).address == "198.51.100.7"


def test_the_nearest_proxy_says_which_scheme() -> None:
    request = request_from("10.0.0.5", **{"X-Forwarded-Proto": "http, https"})
    assert PROXIES.origin(request).scheme == "https"
    assert PROXIES.origin(request_from("10.0.0.5")) == Origin("10.0.0.5", "http")


def _https() -> dict[str, str]:
    return {"X-Forwarded-Proto": "https"}


def test_a_client_is_counted_by_its_ipv4_address_or_its_ipv6_network() -> None:
    assert client_network("198.51.100.7") == "198.51.100.7"
    assert client_network("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_network("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_network("unix-socket-peer") == "unix-socket-peer"
