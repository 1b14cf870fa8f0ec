"""TLS for the node link, switched on by cluster.yaml's ``link.tls`` section.

Both ends present a certificate signed by the cluster's CA and verify the other's. Host names
are not checked: nodes are addressed by IP, and the cookie handshake that follows proves
which node is at the other end.
"""

from __future__ import annotations

import ssl

from config.cluster import LinkConfig


def contexts(link: LinkConfig) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    """(server context, client context), or (None, None) when TLS is off."""
    certfile, keyfile = link.tls_certfile, link.tls_keyfile
    if certfile is None or keyfile is None:
        return None, None
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=link.tls_cafile)
    server.verify_mode = ssl.CERT_REQUIRED
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=link.tls_cafile)
    client.check_hostname = False
    for context in (server, client):
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile, keyfile)
    return server, client
