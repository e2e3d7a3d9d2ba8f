"""The SSRF guard's address check (pure: no socket, no DNS).

:func:`refusal_reason` says why an IP address must not be called by a trigger: loopback, private
(RFC 1918, 100.64/10 shared, ULA ``fc00::/7``), link-local (``169.254.0.0/16`` including the
``169.254.169.254`` metadata service, ``fe80::/10``), multicast, unspecified, reserved and any other
non-global address, also when written as an IPv4-mapped (``::ffff:a.b.c.d``) or 6to4 IPv6 address.

The ``http``, ``databricks`` and ``airflow`` runners apply it to every address a host resolves to
(:mod:`interlock.triggers.http`); config validation applies it to a URL whose host is written as an
address, so such a URL is refused at ``interlock validate`` time.
"""

from __future__ import annotations

import ipaddress

__all__ = ["host_refusal", "refusal_reason"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _why_internal(ip: _Address) -> str | None:
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local (cloud metadata lives here)", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return name
    if not ip.is_global:
        return "not publicly routable"
    return None


def refusal_reason(address: str) -> str | None:
    """Why the SSRF guard refuses an IP address, or ``None`` if it is a public address.

    Args:
        address: an IPv4 or IPv6 address (an IPv6 zone such as ``%eth0`` is ignored).

    Returns:
        ``"loopback"``, ``"private"``, ... or ``None``.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host: judge the IPv4 address.
        for embedded in (ip.ipv4_mapped, ip.sixtofour):
            if embedded is not None:
                reason = _why_internal(embedded)
                if reason is not None:
                    return f"{reason} ({embedded} inside {ip})"
    return _why_internal(ip)


def host_refusal(host: str) -> str | None:
    """Why the guard refuses a URL's host without resolving it, or ``None`` if only DNS can tell.

    Args:
        host: a URL's hostname (an IPv6 address without brackets).

    Returns:
        The reason for an internal address or a ``localhost`` name; ``None`` for a public address or
        any other name.
    """
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback (localhost)"
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return None
    return refusal_reason(name)
