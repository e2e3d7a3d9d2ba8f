"""A local HTTP server speaking enough of Slack's Web API for slack-sdk: the Notifier port's fake.

Tests, the demo and notebooks point a real ``slack_sdk.WebClient`` at it, so nothing mocks slack-sdk::

    fake = FakeSlack().start()                       # 127.0.0.1, a free port, a daemon thread
    client = WebClient(token="xoxb-test", base_url=fake.url)
    ...                                              # fake.calls, fake.messages, fake.replies(ts)
    fake.fail_next(3, status=500)                    # or error="channel_not_found", or status=429
    fake.stop()

Methods: ``auth.test``, ``chat.postMessage`` (returns ``ok``, ``channel`` id, a unique increasing
``ts`` taken from the fake's clock; records ``thread_ts`` and message ``metadata``), ``chat.update``
(channel id and ts must name a message; records each version; ``metadata`` kept unless given),
``chat.delete``, and the reads a notifier needs to find what it already posted:
``conversations.history`` (top-level messages, newest first, ``oldest``/``latest``/``inclusive``),
``conversations.replies`` (the parent, then its replies oldest first), both cursor-paginated
(``limit``, ``cursor``, ``has_more``, ``response_metadata.next_cursor``) and returning a message's
``metadata`` only when asked with ``include_all_metadata``, as Slack does; and ``conversations.list``
(the channels the fake knows, with names). Bodies may be JSON or form-encoded. Channel names
(``#alerts``) resolve to ids (``C…``) for ``chat.postMessage``, as Slack's do; ``chat.update``,
``chat.delete`` and the reads need the id, as Slack's do.

Faults: :meth:`FakeSlack.fail_next` answers with an error (429 with ``Retry-After``, 5xx, ``ok: false``);
:meth:`FakeSlack.drop_replies` does the work and closes the connection without answering (a lost
answer); :meth:`FakeSlack.drop_requests` closes the connection without doing the work;
:meth:`FakeSlack.hold_next` keeps a call open without answering (before or after doing its work) until
:meth:`FakeSlack.release`: the moment to ``kill -9`` a client in the middle of a post.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

__all__ = ["FakeMessage", "FakeSlack", "SlackCall"]

_PAGE_DEFAULT: Final = 100  # conversations.history's default limit
_PAGE_MAX: Final = 999


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
        metadata: the message metadata it was posted with (``{"event_type", "event_payload"}``).
    """

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    thread_ts: str | None
    versions: list[str] = field(default_factory=list)
    deleted: bool = False
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    error: str
    retry_after: int | None
    method: str | None


@dataclass(slots=True)
class _Hold:
    method: str
    posted: bool
    skip: int
    arrived: threading.Event = field(default_factory=threading.Event)


class FakeSlack:
    """A Slack Web API stand-in on ``127.0.0.1`` (a free port), served from a daemon thread.

    Args:
        token: the only bot token accepted (``None``: any ``xox…`` token).
        team: the workspace name ``auth.test`` reports.
        clock: epoch seconds now, for new messages' ``ts`` (default: the wall clock, as Slack's
            server); a ts is always later than the previous one, by a microsecond if need be.

    Attributes:
        calls: every request answered, in order (failures included).
        messages: messages by ts, in posting order (deleted ones stay, marked).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        team: str = "interlock-test",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.team = team
        self.clock = clock
        self.calls: list[SlackCall] = []
        self.messages: dict[str, FakeMessage] = {}
        self._channels: dict[str, str] = {}
        self._failures: list[_Failure] = []
        self._drops = 0
        self._drop_method: str | None = None
        self._skips = 0
        self._skip_method: str | None = None
        self._holds: list[_Hold] = []
        self._released = threading.Event()
        self._last_us = 0
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
        """Stop serving and release the port (and any held call)."""
        self._released.set()
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
        method: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls (of ``method``, or of any method) with a failure.

        Args:
            count: how many calls fail.
            status: the HTTP status: 200 with ``ok: false`` (Slack's usual), 429 or 5xx.
            error: the ``error`` code (default: ``ratelimited`` for 429, ``fatal_error`` otherwise).
            retry_after: the ``Retry-After`` header (default 0 for a 429).
            method: only calls of this method fail (others are answered as usual).
        """
        if error is None:
            error = "ratelimited" if status == 429 else "fatal_error"
        if status == 429 and retry_after is None:
            retry_after = 0
        with self._lock:
            self._failures.extend(
                _Failure(status, error, retry_after, method) for _ in range(count)
            )

    def drop_replies(self, count: int = 1, *, method: str | None = None) -> None:
        """Handle the next ``count`` calls (of ``method``, or any), then close the connection
        without answering.

        What a client sees when Slack did the work but the answer was lost (a timeout, a reset): the
        call may be retried although its message is already posted.
        """
        with self._lock:
            self._drops += count
            self._drop_method = method

    def drop_requests(self, count: int = 1, *, method: str | None = None) -> None:
        """Close the connection on the next ``count`` calls (of ``method``, or any) without handling
        them: the client sees the same lost answer as with :meth:`drop_replies`, but nothing was done.

        The call is still recorded in :attr:`calls`, with status 0 and error ``dropped``.
        """
        with self._lock:
            self._skips += count
            self._skip_method = method

    def hold_next(self, method: str, *, posted: bool, after: int = 0) -> threading.Event:
        """Keep a call of ``method`` open, unanswered, until :meth:`release`; then close it unanswered.

        Args:
            method: the Web API method, e.g. ``chat.postMessage``.
            posted: do the call's work before holding it (Slack posted; the answer will be lost) or
                not (the call is recorded with status 0 and error ``held``, nothing is done).
            after: let this many calls of ``method`` through first.

        Returns:
            An event set once the call is held: the client is then waiting inside the request.
        """
        hold = _Hold(method, posted, after)
        with self._lock:
            self._released.clear()
            self._holds.append(hold)
        return hold.arrived

    def release(self) -> None:
        """Let held calls end (their connections close without an answer)."""
        self._released.set()

    def _take_hold(self, method: str) -> _Hold | None:
        for hold in self._holds:
            if hold.method == method:
                if hold.skip > 0:
                    hold.skip -= 1
                    return None
                self._holds.remove(hold)
                return hold
        return None

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
            hold = self._take_hold(method)
            skip = self._skips > 0 and self._skip_method in (None, method)
            if hold is not None and not hold.posted:
                self.calls.append(SlackCall(method, args, 0, "held"))
            elif skip:
                self._skips -= 1
                self.calls.append(SlackCall(method, args, 0, "dropped"))
            else:
                status, body, headers = self._answer(method, args, auth)
                error = None if body.get("ok") else str(body.get("error"))
                self.calls.append(SlackCall(method, args, status, error))
            drop = skip or (self._drops > 0 and self._drop_method in (None, method))
            self._drops -= 1 if drop and not skip else 0
        if hold is not None:
            hold.arrived.set()
            self._released.wait()
            drop = True
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
        failure = next((f for f in self._failures if f.method in (None, method)), None)
        if failure is not None:
            self._failures.remove(failure)
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
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.list": self._list,
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
        metadata, bad = _metadata(args.get("metadata"))
        if bad:
            return {"ok": False, "error": "invalid_metadata_format"}
        # ts: the clock's epoch seconds with microseconds, always later than the last one
        self._last_us = max(round(self.clock() * 1_000_000), self._last_us + 1)
        ts = f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"
        text = str(args.get("text") or "")
        self.messages[ts] = FakeMessage(
            channel=channel_id,
            ts=ts,
            text=text,
            blocks=_blocks(args.get("blocks")),
            thread_ts=str(thread_ts) if thread_ts is not None else None,
            versions=[text],
            metadata=metadata,
        )
        return {
            "ok": True,
            "channel": channel_id,
            "ts": ts,
            "message": self._message(self.messages[ts], with_metadata=True),
        }

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(args.get("ts")))
        if message is None or message.deleted:
            return {"ok": False, "error": "message_not_found"}
        if args.get("channel") != message.channel:
            return {"ok": False, "error": "channel_not_found"}
        if "metadata" in args:
            metadata, bad = _metadata(args.get("metadata"))
            if bad:
                return {"ok": False, "error": "invalid_metadata_format"}
            message.metadata = metadata
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

    # -------------------------------------------------------------------------------- reads

    def _message(self, message: FakeMessage, *, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "ts": message.ts,
            "text": message.text,
            "bot_id": "B00000001",
        }
        replies = [m for m in self.messages.values() if m.thread_ts == message.ts and not m.deleted]
        if message.thread_ts is not None:
            out["thread_ts"] = message.thread_ts
        elif replies:
            out["thread_ts"] = message.ts
            out["reply_count"] = len(replies)
        if message.blocks is not None:
            out["blocks"] = message.blocks
        if with_metadata and message.metadata is not None:
            out["metadata"] = message.metadata
        return out

    def _known_channel(self, args: dict[str, Any]) -> str | None:
        channel = str(args.get("channel") or "")
        return channel if channel in self._channels.values() else None

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._known_channel(args)
        if channel is None:  # names are not accepted here, as in Slack
            return {"ok": False, "error": "channel_not_found"}
        inclusive = _flag(args.get("inclusive"))
        oldest, latest = _bound(args.get("oldest")), _bound(args.get("latest"))
        found = [
            m
            for m in reversed(self.messages.values())  # newest first
            if m.channel == channel
            and m.thread_ts is None
            and not m.deleted
            and _within(m.ts, oldest, latest, inclusive=inclusive)
        ]
        return self._page(found, args)

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._known_channel(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        parent = self.messages.get(str(args.get("ts") or ""))
        if parent is None or parent.deleted or parent.channel != channel:
            return {"ok": False, "error": "thread_not_found"}
        if parent.thread_ts is not None:  # a reply's ts names its thread, as in Slack
            parent = self.messages[parent.thread_ts]
        inclusive = _flag(args.get("inclusive"))
        oldest, latest = _bound(args.get("oldest")), _bound(args.get("latest"))
        found = [parent] + [
            m
            for m in self.messages.values()
            if m.thread_ts == parent.ts
            and not m.deleted
            and _within(m.ts, oldest, latest, inclusive=inclusive)
        ]
        return self._page(found, args)

    def _page(self, found: list[FakeMessage], args: dict[str, Any]) -> dict[str, Any]:
        try:
            limit = min(max(int(args.get("limit") or _PAGE_DEFAULT), 1), _PAGE_MAX)
            start = int(str(args.get("cursor") or "next:0").removeprefix("next:"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        with_metadata = _flag(args.get("include_all_metadata"))
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": [self._message(m, with_metadata=with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [
            {"id": cid, "name": name.lstrip("#"), "is_channel": True, "is_private": False}
            for name, cid in self._channels.items()
            if name != cid
        ]
        try:
            limit = min(max(int(args.get("limit") or _PAGE_DEFAULT), 1), 1000)
            start = int(str(args.get("cursor") or "next:0").removeprefix("next:"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        more = start + limit < len(channels)
        return {
            "ok": True,
            "channels": channels[start : start + limit],
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true"}
    return bool(value)


def _bound(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _within(ts: str, oldest: float | None, latest: float | None, *, inclusive: bool) -> bool:
    t = float(ts)
    if oldest is not None and (t < oldest or (t == oldest and not inclusive)):
        return False
    return not (latest is not None and (t > latest or (t == latest and not inclusive)))


def _metadata(value: Any) -> tuple[dict[str, Any] | None, bool]:
    """The message metadata of a request and whether it is malformed (Slack refuses those)."""
    if value is None or value == "":
        return None, False
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, True
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not isinstance(value.get("event_payload"), dict)
    ):
        return None, True
    return {"event_type": value["event_type"], "event_payload": value["event_payload"]}, False


def _blocks(value: Any) -> list[Any] | None:
    if isinstance(value, str):
        parsed = json.loads(value)
        return parsed if isinstance(parsed, list) else None
    return value if isinstance(value, list) else None
