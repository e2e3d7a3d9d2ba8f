"""A local HTTP server speaking enough of Slack's Web API for slack-sdk: the Notifier port's fake.

Tests, the demo and notebooks point a real ``slack_sdk.WebClient`` at it, so nothing mocks slack-sdk::

    fake = FakeSlack().start()                       # 127.0.0.1, a free port, a daemon thread
    client = WebClient(token="xoxb-test", base_url=fake.url)
    ...                                              # fake.calls, fake.messages, fake.replies(ts)
    fake.fail_next(3, status=500)                    # or error="channel_not_found", or status=429
    fake.stop()

Methods: ``auth.test``, ``chat.postMessage`` (returns ``ok``, ``channel`` id, a unique increasing
``ts``; records ``thread_ts``), ``chat.update`` (channel id and ts must name a message; records each
version), ``chat.delete``. Bodies may be JSON or form-encoded. Channel names (``#alerts``) resolve to
ids (``C…``), as Slack's do; ``chat.update`` needs the id, as Slack's does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["FakeMessage", "FakeSlack", "SlackCall"]

_TS_BASE: Final = 1_772_400_000  # 2026-03-01: ts values look like Slack's (epoch seconds.micro)


@dataclass(frozen=True, slots=True)
class SlackCall:
    """One request the fake answered.

    Attributes:
        method: the Web API method, e.g. ``chat.postMessage``.
        args: the request's arguments (JSON body, form fields or query string).
        status: the HTTP status answered.
        error: the ``error`` answered with ``ok: false`` (``None`` on success).
    """

    method: str
    args: dict[str, Any]
    status: int
    error: str | None


@dataclass(slots=True)
class FakeMessage:
    """A message the fake holds.

    Attributes:
        channel: the channel id.
        ts: its ts.
        text: its current text.
        blocks: its current blocks.
        thread_ts: the root's ts, for a reply; ``None`` for a top-level message.
        versions: every text it had, first post first (``chat.update`` appends).
        deleted: set by ``chat.delete``.
    """

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    thread_ts: str | None
    versions: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    error: str
    retry_after: int | None


class FakeSlack:
    """A Slack Web API stand-in on ``127.0.0.1`` (a free port), served from a daemon thread.

    Args:
        token: the only bot token accepted (``None``: any ``xox…`` token).
        team: the workspace name ``auth.test`` reports.

    Attributes:
        calls: every request answered, in order (failures included).
        messages: messages by ts, in posting order (deleted ones stay, marked).
    """

    def __init__(self, *, token: str | None = None, team: str = "interlock-test") -> None:
        self.token = token
        self.team = team
        self.calls: list[SlackCall] = []
        self.messages: dict[str, FakeMessage] = {}
        self._channels: dict[str, str] = {}
        self._failures: list[_Failure] = []
        self._drops = 0
        self._drop_method: str | None = None
        self._seq = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        """Start serving; returns ``self``."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
                """Quiet: tests read :attr:`FakeSlack.calls` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # a short poll interval makes stop() quick (shutdown waits for the next poll)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL for ``WebClient(base_url=...)`` (ends with ``/``)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __repr__(self) -> str:
        return f"<FakeSlack {len(self.calls)} calls, {len(self.messages)} messages>"

    # -------------------------------------------------------------------------------- scripting

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls (of any method) with a failure.

        Args:
            count: how many calls fail.
            status: the HTTP status: 200 with ``ok: false`` (Slack's usual), 429 or 5xx.
            error: the ``error`` code (default: ``ratelimited`` for 429, ``fatal_error`` otherwise).
            retry_after: the ``Retry-After`` header (default 0 for a 429).
        """
        if error is None:
            error = "ratelimited" if status == 429 else "fatal_error"
        if status == 429 and retry_after is None:
            retry_after = 0
        with self._lock:
            self._failures.extend(_Failure(status, error, retry_after) for _ in range(count))

    def drop_replies(self, count: int = 1, *, method: str | None = None) -> None:
        """Handle the next ``count`` calls (of ``method``, or any), then close the connection
        without answering.

        What a client sees when Slack did the work but the answer was lost (a timeout, a reset): the
        call may be retried although its message is already posted.
        """
        with self._lock:
            self._drops += count
            self._drop_method = method

    def channel_id(self, channel: str) -> str:
        """The id the fake gives a channel name (ids map to themselves)."""
        with self._lock:
            return self._resolve(channel)

    # ---------------------------------------------------------------------------------- queries

    def posts(self) -> list[SlackCall]:
        """Successful ``chat.postMessage`` calls, in order."""
        return self.calls_to("chat.postMessage")

    def updates(self) -> list[SlackCall]:
        """Successful ``chat.update`` calls, in order."""
        return self.calls_to("chat.update")

    def calls_to(self, method: str) -> list[SlackCall]:
        """Successful calls of ``method``, in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.error is None]

    def roots(self) -> list[FakeMessage]:
        """Top-level messages (not deleted), in posting order."""
        with self._lock:
            return [m for m in self.messages.values() if m.thread_ts is None and not m.deleted]

    def replies(self, thread_ts: str) -> list[FakeMessage]:
        """Replies in a thread, in posting order."""
        with self._lock:
            return [m for m in self.messages.values() if m.thread_ts == thread_ts]

    # --------------------------------------------------------------------------------- serving

    def _resolve(self, channel: str) -> str:
        if channel in self._channels.values():
            return channel
        return self._channels.setdefault(channel, f"C{len(self._channels) + 1:08d}")

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path, _, query = request.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode("utf-8") if length else ""
        ctype = request.headers.get("Content-Type") or ""
        args: dict[str, Any] = dict(parse_qsl(query))
        if "json" in ctype and raw:
            args.update(json.loads(raw))
        elif raw:
            args.update(parse_qsl(raw))
        auth = request.headers.get("Authorization") or ""
        with self._lock:
            status, body, headers = self._answer(method, args, auth)
            error = None if body.get("ok") else str(body.get("error"))
            self.calls.append(SlackCall(method, args, status, error))
            drop = self._drops > 0 and self._drop_method in (None, method)
            self._drops -= 1 if drop else 0
        if drop:
            request.close_connection = True
            request.connection.close()
            return
        payload = json.dumps(body).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _answer(
        self, method: str, args: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self._failures:
            failure = self._failures.pop(0)
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return failure.status, {"ok": False, "error": failure.error}, headers
        token = auth.removeprefix("Bearer ").strip()
        if not token.startswith("xox") or (self.token is not None and token != self.token):
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
        }.get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        return 200, handler(args), {}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": self.team, "user": "interlock", "bot_id": "B00000001"}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        channel_id = self._resolve(channel)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and str(thread_ts) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        self._seq += 1
        ts = f"{_TS_BASE + self._seq}.{self._seq:06d}"
        text = str(args.get("text") or "")
        self.messages[ts] = FakeMessage(
            channel=channel_id,
            ts=ts,
            text=text,
            blocks=_blocks(args.get("blocks")),
            thread_ts=str(thread_ts) if thread_ts is not None else None,
            versions=[text],
        )
        return {"ok": True, "channel": channel_id, "ts": ts, "message": {"text": text, "ts": ts}}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(args.get("ts")))
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        if args.get("channel") != message.channel:
            return {"ok": False, "error": "channel_not_found"}
        message.text = str(args.get("text") or "")
        message.blocks = _blocks(args.get("blocks"))
        message.versions.append(message.text)
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(args.get("ts")))
        if message is None or message.deleted or args.get("channel") != message.channel:
            return {"ok": False, "error": "message_not_found"}
        message.deleted = True
        return {"ok": True, "channel": message.channel, "ts": message.ts}


def _blocks(value: Any) -> list[Any] | None:
    if isinstance(value, str):
        parsed = json.loads(value)
        return parsed if isinstance(parsed, list) else None
    return value if isinstance(value, list) else None
