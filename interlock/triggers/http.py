"""The ``http`` trigger: call an endpoint once, guarded against SSRF.

Flow of :meth:`HttpRunner.start`::

    expand ${VARS} in url, header values and body  ->  resolve the host (once)
    -> refuse if ANY resolved address is internal (unless allow_private)
    -> connect to a checked address (never resolve again), Host header and TLS SNI/certificate
       check use the URL's hostname
    -> 2xx/3xx: triggered (handle)  |  4xx: TriggerError(permanent)  |  408, 429, 5xx, network,
       timeout: transient

**Fire-and-forget.** As in the original, an HTTP trigger is synchronous: a 2xx/3xx answer means the job
was handed over, ``start`` returns a handle and :meth:`HttpRunner.status` reports ``succeeded`` at once.
Redirects are not followed (a 3xx counts as accepted): following one would mean checking a second,
attacker-chosen target.

**One attempt.** The original retried network errors and 5xx three times inside the trigger, on top of
the orchestrator's infrastructure retries (up to 12 calls). Here a transient failure is raised at once and
the caller's infra retry decides; a 4xx is permanent and never retried (DESIGN.md section 9), except
408 (request timeout) and 429 (throttled), which are transient.

**Body.** A mapping is sent as JSON, a string as written, and no body at all as the original's
``{"par_day": "YYYYMMDD", "par_hour": "HH"}`` (``par_hour`` only for an hourly period). Unless the
headers say otherwise the request carries ``Content-Type: application/json`` (the original set it for
every body).

**SSRF guard.** Refused unless ``allow_private=True``: loopback, private (RFC 1918, 100.64/10 shared,
ULA ``fc00::/7``), link-local (``169.254.0.0/16`` including the ``169.254.169.254`` metadata service,
``fe80::/10``), multicast, unspecified, reserved and any other non-global address, also when written as
an IPv4-mapped (``::ffff:a.b.c.d``) or 6to4 IPv6 address. The address checked is the address connected to,
so a DNS answer that changes between check and connect (rebinding) cannot slip through. Environment
proxies (``HTTP_PROXY``) are not used: through a proxy the guard would check the proxy, not the target.

**Timeout.** ``timeout`` (default 30 s) bounds connecting and each read, not the whole exchange: a server
that trickles bytes could hold a call longer.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import re
import socket
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from interlock.config.models import HttpJobConfig
from interlock.ssrf import refusal_reason
from interlock.triggers.base import (
    FailureClass,
    JobStatus,
    RunHandle,
    TriggerContext,
    TriggerError,
)
from interlock.triggers.polling import parse_config

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from interlock.schedule import Period

__all__ = [
    "DEFAULT_TIMEOUT",
    "READ_LIMIT",
    "HttpRequest",
    "HttpResponse",
    "HttpRunner",
    "HttpTransport",
    "SocketTransport",
    "build_request",
    "redact",
    "refusal_reason",
    "request_secrets",
    "scrub",
    "status_error",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds allowed to connect and for each read when the job sets no ``timeout``."""

_EXCERPT = 512
READ_LIMIT: Final = 64 * 1024
"""Bytes of a body read by default: enough for an excerpt; an endless body must not hold the trigger."""


@dataclass(frozen=True)
class HttpRequest:
    """A request ready to send.

    Attributes:
        method: ``GET``, ``POST``, ...
        url: the expanded URL.
        host: the URL's hostname (Host header, TLS SNI and certificate check).
        port: the port to connect to.
        tls: whether to speak HTTPS.
        target: path and query (what goes on the request line).
        headers: header name to value.
        body: the bytes to send (``None`` for none).
        read_limit: the most bytes of the answer's body to read (the rest is not read).
    """

    method: str
    url: str
    host: str
    port: int
    tls: bool
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    read_limit: int = READ_LIMIT


@dataclass(frozen=True)
class HttpResponse:
    """What came back.

    Attributes:
        status: the HTTP status code.
        body: the start of the body (at most the request's ``read_limit``).
        truncated: the body was longer than that (what is in ``body`` is its start).
    """

    status: int
    body: bytes
    truncated: bool = False


class HttpTransport(Protocol):
    """Sends one request to already-checked addresses (a seam for tests and for other stacks)."""

    def send(
        self, request: HttpRequest, *, addresses: Sequence[str], timeout: float
    ) -> HttpResponse:
        """Send ``request`` to the first of ``addresses`` that accepts a connection.

        Args:
            request: the request.
            addresses: IP addresses the SSRF guard allowed, in resolver order; never resolve again.
            timeout: seconds for connecting and for each read.

        Returns:
            The response.

        Raises:
            OSError: the connection failed or timed out (``TimeoutError``).
            http.client.HTTPException: the server did not speak HTTP.
        """
        ...


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to fixed IP addresses that still names the URL's host.

    ``self.host`` stays the URL's hostname, so http.client writes the right Host header, and TLS uses it
    for SNI and certificate verification; only the TCP connect goes to the checked addresses.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: Sequence[str],
        timeout: float,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = list(addresses)
        self._tls = tls

    def connect(self) -> None:
        error: OSError | None = None
        for address in self._addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:  # refused or unreachable: nothing was sent, try the next one
                error = exc
                continue
            if self._tls is not None:
                try:
                    sock = self._tls.wrap_socket(sock, server_hostname=self.host)
                except BaseException:
                    sock.close()
                    raise
            self.sock = sock
            return
        raise error if error is not None else OSError("no address to connect to")


class SocketTransport:
    """The default transport: http.client over a socket to a checked address (no proxies)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        """Create a transport.

        Args:
            ssl_context: TLS settings for https (default: system CAs, hostname checked).
        """
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return "SocketTransport()"

    def send(
        self, request: HttpRequest, *, addresses: Sequence[str], timeout: float
    ) -> HttpResponse:
        """Send ``request`` (see :meth:`HttpTransport.send`)."""
        context = None
        if request.tls:
            context = self._ssl_context or ssl.create_default_context()
        conn = _PinnedConnection(
            request.host, request.port, addresses=addresses, timeout=timeout, tls=context
        )
        try:
            conn.request(request.method, request.target, body=request.body, headers=request.headers)
            response = conn.getresponse()
            try:
                body = response.read(request.read_limit + 1)
            finally:
                response.close()
            truncated = len(body) > request.read_limit
            return HttpResponse(response.status, body[: request.read_limit], truncated)
        finally:
            conn.close()


# ------------------------------------------------------------------------------------ SSRF guard


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


# ---------------------------------------------------------------------------------------- runner


def _as_config(job_config: Any) -> HttpJobConfig:
    return parse_config(HttpJobConfig, job_config, "http")


def _excerpt(body: bytes, secrets: Sequence[str] = ()) -> str:
    text = body.decode("utf-8", errors="replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    return scrub(" ".join(text.split()), secrets)[:_EXCERPT]


_SENSITIVE_HEADER = re.compile(r"auth|token|secret|key|cookie|pass|session|signature", re.I)
_CREDENTIAL_SHAPES = re.compile(
    r"(?P<scheme>\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|(?P<name>(?:access_?token|api[_-]?key|token|password|passwd|secret|credentials?)"
    r"[\\\"']{0,3}\s*[:=]\s*[\\\"']{0,3})[^\s\\\"'&,;}]{4,}",
    re.I,
)
_MASK = "***"


def request_secrets(request: HttpRequest) -> list[str]:
    """The credential strings a request carries, longest first (to mask in what a server echoes).

    Values of authorization-like headers (and the token or user/password behind a ``Bearer`` or
    ``Basic`` scheme), of credential-named keys of a JSON body, query-string values and the URL's
    user info.

    Args:
        request: the request sent.

    Returns:
        Strings of 4 or more characters that must not appear in an error message.
    """
    found: set[str] = set()
    for name, value in request.headers.items():
        if name.lower() == "idempotency-key" or not _SENSITIVE_HEADER.search(name):
            continue
        found.add(value)
        scheme, _, rest = value.partition(" ")
        if rest:
            found.add(rest.strip())
            if scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(rest.strip()).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    continue
                found.update((user + ":" + password, password))
    if request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            found.update(
                str(v)
                for k, v in body.items()
                if isinstance(v, str | int) and _SENSITIVE_HEADER.search(str(k))
            )
    parts = urlsplit(request.url)
    found.update(value for _, value in parse_qsl(parts.query, keep_blank_values=True))
    if parts.password:
        found.update((parts.password, unquote(parts.password)))
    return sorted((f for f in found if len(f) >= 4), key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with the given secrets and credential-shaped strings masked as ``***``.

    Args:
        text: an error excerpt (what a server answered).
        secrets: exact strings to mask (see :func:`request_secrets`).

    Returns:
        The text, safe to put in an event, a log line or a Slack message.
    """
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return _CREDENTIAL_SHAPES.sub(
        lambda m: (m.group("scheme") or m.group("name") or "") + _MASK, text
    )


def build_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    read_limit: int = READ_LIMIT,
) -> HttpRequest:
    """A request for an expanded URL: ``Content-Type: application/json`` unless ``headers`` set it.

    Args:
        method: ``GET``, ``POST``, ...
        url: the expanded http(s) URL.
        headers: header name to value (a name given in any case replaces the default).
        body: the bytes to send, or ``None``.
        read_limit: the most bytes of the answer to read.

    Returns:
        The request.

    Raises:
        TriggerError: (permanent) not an http(s) URL with a host, or a bad port.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise TriggerError(f"bad port in URL {url!r}", failure=FailureClass.PERMANENT) from exc
    if scheme not in ("http", "https") or not parts.hostname:
        raise TriggerError(
            f"{_redact(url)!r} is not an http(s) URL with a host", failure=FailureClass.PERMANENT
        )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    merged = {"Content-Type": "application/json"}
    for name, value in headers.items():
        for existing in [h for h in merged if h.lower() == name.lower()]:
            del merged[existing]
        merged[name] = value
    return HttpRequest(
        method=method,
        url=url,
        host=parts.hostname,
        port=port or (443 if scheme == "https" else 80),
        tls=scheme == "https",
        target=target,
        headers=merged,
        body=body,
        read_limit=read_limit,
    )


def status_error(request: HttpRequest, response: HttpResponse) -> TriggerError:
    """The error for an answer that is not 2xx/3xx: 4xx permanent (429 and 408 transient), else
    transient.

    Args:
        request: what was sent.
        response: what came back.

    Returns:
        The error, naming the method, the URL (without query) and the start of the body with the
        request's credentials (and anything shaped like one) masked: servers echo what they refuse.
    """
    status = response.status
    permanent = 400 <= status < 500 and status not in (408, 429)
    return TriggerError(
        f"{request.method} {_redact(request.url)} returned status {status}: "
        f"{_excerpt(response.body, request_secrets(request))}",
        failure=FailureClass.PERMANENT if permanent else FailureClass.TRANSIENT,
    )


def redact(url: str) -> str:
    """``url`` without its query string and user info (they often carry tokens).

    Args:
        url: a URL.

    Returns:
        ``scheme://host[:port]/path``.
    """
    return _redact(url)


def _redact(url: str) -> str:
    # Query strings and userinfo often carry tokens: keep them out of messages and metadata.
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class HttpRunner:
    """Runs ``http`` jobs: one guarded call per start (see the module docstring)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        transport: HttpTransport | None = None,
        env: Mapping[str, str] | None = None,
        resolver: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        """Create a runner.

        Args:
            allow_private: allow loopback, private and link-local targets (local development, an
                internal endpoint you trust). Off by default: the guard stops a config from reaching
                the cloud metadata service or internal admin APIs.
            transport: what sends the request (default :class:`SocketTransport`).
            env: source of ``${INTERLOCK_*}`` template variables (default: ``os.environ``).
            resolver: host and port to IP addresses (default: ``socket.getaddrinfo``).
        """
        self._allow_private = allow_private
        self._transport: HttpTransport = transport or SocketTransport()
        self._env = env
        self._resolve = resolver or _resolve

    def __repr__(self) -> str:
        return f"HttpRunner(allow_private={self._allow_private})"

    def start(self, job_config: Any, *, pipeline_id: str, period: Period, run_id: str) -> RunHandle:
        """Call the endpoint once.

        Args:
            job_config: an :class:`~interlock.config.models.HttpJobConfig` (or its mapping).
            pipeline_id: the pipeline (``${PIPELINE}``).
            period: the run's period (``${PERIOD}``, ``${DATE}``, ``${HOUR}``; default body).
            run_id: the run's id (``${RUN_ID}``).

        Returns:
            A handle whose metadata holds ``status`` and ``url`` (without query string).

        Raises:
            TriggerError: permanent for a 4xx (not 408/429), an SSRF refusal, a bad URL or an unknown
                variable; transient for 408, 429, a 5xx, a DNS or connection failure or a timeout.
        """
        config = _as_config(job_config)
        context = TriggerContext.build(
            pipeline_id=pipeline_id, period=period, run_id=run_id, environ=self._env
        )
        request = self._request(config, context, period)
        shown = _redact(request.url)
        timeout = DEFAULT_TIMEOUT if config.timeout is None else config.timeout.total_seconds()
        response = self.send(request, timeout=timeout)
        status = response.status
        if 200 <= status < 400:
            return RunHandle(run_id, {"status": status, "url": shown})
        raise status_error(request, response)

    def send(self, request: HttpRequest, *, timeout: float = DEFAULT_TIMEOUT) -> HttpResponse:
        """Send one request through the SSRF guard (the ``databricks`` and ``airflow`` runners too).

        Args:
            request: the request (see :func:`build_request`).
            timeout: seconds for connecting and for each read.

        Returns:
            The response, whatever its status.

        Raises:
            TriggerError: permanent for an SSRF refusal; transient for a DNS or connection failure
                or a timeout.
        """
        shown = _redact(request.url)
        addresses = self._checked_addresses(request, shown)
        try:
            return self._transport.send(request, addresses=addresses, timeout=timeout)
        except TimeoutError as exc:
            raise TriggerError(
                f"{request.method} {shown} timed out after {timeout:g}s",
                failure=FailureClass.TRANSIENT,
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TriggerError(
                f"{request.method} {shown} failed: {exc.__class__.__name__}: {exc}",
                failure=FailureClass.TRANSIENT,
            ) from exc

    def status(self, job_config: Any, handle: RunHandle) -> JobStatus:
        """An HTTP trigger is fire-and-forget: once started it has succeeded.

        Args:
            job_config: the job's config (unused).
            handle: the handle :meth:`start` returned.

        Returns:
            ``succeeded``, with the status the endpoint answered.
        """
        return JobStatus(
            "succeeded",
            None,
            f"{handle.metadata.get('url')} accepted the trigger (HTTP {handle.metadata.get('status')})",
        )

    # ------------------------------------------------------------------------------- helpers

    @staticmethod
    def _request(config: HttpJobConfig, context: TriggerContext, period: Period) -> HttpRequest:
        url = context.expand(config.url)
        # The run id lets the endpoint recognise a start replayed after Interlock crashed between
        # calling it and recording the call (its own header of that name wins).
        headers = {"Idempotency-Key": context.expand("${RUN_ID}")}
        for name, value in config.headers.items():
            for existing in [h for h in headers if h.lower() == name.lower()]:
                del headers[existing]
            headers[name] = context.expand(value)
        body: bytes
        if config.body is None:
            default: dict[str, str] = {"par_day": period.day.strftime("%Y%m%d")}
            if period.hour is not None:
                default["par_hour"] = f"{period.hour:02d}"
            body = json.dumps(default).encode()
        elif isinstance(config.body, str):
            body = context.expand(config.body).encode()
        else:
            body = json.dumps(context.expand_json(config.body)).encode()
        return build_request(config.method, url, headers, body)

    def _checked_addresses(self, request: HttpRequest, shown: str) -> list[str]:
        try:
            addresses = self._resolve(request.host, request.port)
        except (OSError, UnicodeError) as exc:
            raise TriggerError(
                f"cannot resolve {request.host!r} for {shown}: {exc}",
                failure=FailureClass.TRANSIENT,
            ) from exc
        if not addresses:
            raise TriggerError(
                f"{request.host!r} resolved to no address", failure=FailureClass.TRANSIENT
            )
        if self._allow_private:
            return addresses
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None:
                raise TriggerError(
                    f"refusing to call {shown}: {request.host} resolves to {address}, which is "
                    f"{reason} (SSRF guard). For a trusted internal endpoint, build the runner with "
                    "allow_private=True (runner_for('http', allow_private=True)).",
                    failure=FailureClass.PERMANENT,
                )
        return addresses
