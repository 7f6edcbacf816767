"""Outbound connections to addresses that were checked: every untrusted URL defwatch calls (webhook
targets, article pages, redirects) is resolved once, each address checked, and the connection made to
that address (no second lookup that a hostile DNS server could answer differently). Loopback, private,
link-local (cloud metadata), multicast, reserved and unspecified addresses are refused unless allowed."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.parse


class Refused(Exception):
    """A target the SSRF guard will not connect to."""


def check_address(ip: str) -> str | None:
    """Why an address may not be called without ``allow_private``, or None."""
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    for what in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(addr, f"is_{what}"):
            return f"{ip} is a {what.replace('_', '-')} address"
    if not addr.is_global:
        return f"{ip} is not a public address"
    return None


def resolve(url: str, allow_private: bool) -> tuple[str, int, str]:
    """(host, port, address to connect to) for ``url``; raises ``Refused``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [str(i[4][0]) for i in infos]
    if not allow_private:
        for ip in addresses:
            why = check_address(ip)
            if why:
                raise Refused(f"{parts.hostname} resolves to {why} (set allow_private on the target to allow)")
    return parts.hostname, port, addresses[0]


class PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
