"""The SSRF guard's address check (pure: no socket, no DNS).

:func:`refusal_reason` says why an IP address must not be called by a trigger: loopback, private
(RFC 1918, 100.64/10 shared, ULA ``fc00::/7``), link-local (``169.254.0.0/16`` including the
``169.254.169.254`` metadata service, ``fe80::/10``), multicast, unspecified, reserved and any other
non-global address, also when written as an IPv4-mapped (``::ffff:a.b.c.d``) or 6to4 IPv6 address.

:func:`host_refusal` also reads the shorthand IPv4 spellings that ``inet_aton`` (and so every resolver
and browser) accepts but :mod:`ipaddress` does not: ``127.1``, ``0x7f000001``, ``2130706433``,
``0177.0.0.1``, ``10.1.257`` — otherwise ``http://127.1/`` would pass validation as "a name only DNS
can judge" and reach loopback.

The ``http``, ``databricks`` and ``airflow`` runners apply it to every address a host resolves to
(:mod:`interlock.triggers.http`); config validation applies it to a URL whose host is written as an
address, so such a URL is refused at ``interlock validate`` time.
"""

from __future__ import annotations

import ipaddress

__all__ = ["host_refusal", "refusal_reason", "shorthand_ipv4"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _why_internal(ip: _Address) -> str | None:
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local (cloud metadata lives here)", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        # reserved before private: 240.0.0.0/4 (and broadcast) is both, and never a job endpoint
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
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


_MAX_PART = (0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF)


def _aton_part(text: str) -> int | None:
    if text[:2].lower() == "0x":
        digits, base = text[2:], 16
    elif len(text) > 1 and text.startswith("0"):
        digits, base = text[1:], 8
    else:
        digits, base = text, 10
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def shorthand_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address an ``inet_aton`` shorthand spells, or ``None`` if ``host`` is not one.

    ``a``, ``a.b``, ``a.b.c`` and ``a.b.c.d``, each part decimal, octal (leading ``0``) or hex
    (``0x``); the last part fills the remaining bytes (``127.1`` is ``127.0.0.1``).

    Args:
        host: a URL's hostname.

    Returns:
        The address, or ``None`` for a name (or anything out of range).
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or any(p == "" for p in parts):
        return None
    values = [_aton_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    numbers = [v for v in values if v is not None]
    *head, last = numbers
    if any(v > 0xFF for v in head) or last > _MAX_PART[len(head)]:
        return None
    value = last
    for index, byte in enumerate(head):
        value |= byte << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


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
        shorthand = shorthand_ipv4(name)
        if shorthand is None:
            return None
        reason = refusal_reason(str(shorthand))
        return None if reason is None else f"{reason} ({name} is {shorthand})"
    return refusal_reason(name)
