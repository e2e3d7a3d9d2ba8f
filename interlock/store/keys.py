"""Every key pattern of the four tables, and the time formats stored beside them.

Nothing else in Interlock spells ``"PIPELINE#"`` or ``"TRIGGER#"``: build keys here, parse them here.
The formats are the original's (reference §3), so its producers and dashboards keep working; ours are
marked *new*::

    table    PK                     SK                                   item
    -------  ---------------------  -----------------------------------  ----------------------------
    control  PIPELINE#<id>          CONFIG                               config (JSON string)
             PIPELINE#<id>          SENSOR#<key>                         sensor (``data`` map or flat)
             PIPELINE#<id>          TRIGGER#<schedule>#<period>          run lock/state
             PIPELINE#<id>          RERUN_REQUEST#<schedule>#<period>    rerun request
             PIPELINE#<id>          DRY_RUN#<schedule>#<period>          dry-run marker
             PIPELINE#<id>          OVERRIDE#<name>                      operator override (new)
             PIPELINE#<id>          ACK#<schedule>#<period>              SLA acknowledgement (new)
             PIPELINE#<id>          CLAIM#<name>#<schedule>#<period>     once-per-period claim (new)
             PIPELINE#<id>          WATCH                                watchdog due time (new)
             TIMER                  <timer name>                         pending local timer (new)
    joblog   PIPELINE#<id>          JOB#<schedule>#<period>#<ms>         job event
    rerun    PIPELINE#<id>          RERUN#<schedule>#<period>#<nnnn>     rerun attempt (zero-padded)
    events   PIPELINE#<id>          <ms, 13 digits>#<type>#<uid>         event (uid: no collisions)
             PIPELINE#<id>          THREAD#<schedule>#<period>           Slack thread

    control GSI1 (GSI1PK, GSI1SK):  CONFIGS / <id>                       every config (never a Scan)
                                    RUNNING / <id>#<schedule>#<period>   RUNNING run rows only
                                    WATCH / <due, ms UTC>#<id>           pipelines by watchdog due time
    events  GSI2 (GSI2PK, ts):      EVENTS#<YYYY-MM-DDTHH> (UTC hour)    "everything since T"

Pieces are validated when a key is built: a pipeline id, schedule, period, sensor key or override name
must be non-empty and free of ``#`` (ids never contain one), so a key always splits back into the pieces
it was built from. The only sensor keys with a ``#`` are the controller's own bookkeeping rows
(``first-sensor-arrival#<period>`` …), built with :func:`bookkeeping_key`.

Times stored as text are RFC 3339 in UTC (``2026-03-02T10:00:00Z``); ``ttl`` is epoch seconds. Every
function taking a ``datetime`` refuses a naive one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final

__all__ = [
    "split_period_key",
    "ACK_PREFIX",
    "CLAIM_PREFIX",
    "BOOKKEEPING_NAMES",
    "CONFIG_INDEX_PK",
    "CONFIG_SK",
    "DRY_RUN_PREFIX",
    "FIRST_SENSOR_ARRIVAL",
    "INDEX",
    "IRREGULAR_MISSED_CHECK",
    "OVERRIDE_PREFIX",
    "PIPELINE_PREFIX",
    "POSTRUN_BASELINE",
    "POSTRUN_CHECK",
    "RELATIVE_SLA_BREACH_CHECK",
    "RERUN_REQUEST_PREFIX",
    "RUNNING_INDEX_PK",
    "SWEEP_PIPELINE",
    "WATCH_INDEX_PK",
    "WATCH_SK",
    "SENSOR_PREFIX",
    "THREAD_PREFIX",
    "TRIGGER_PREFIX",
    "ack_prefix",
    "ack_sk",
    "bookkeeping_key",
    "claim_sk",
    "dry_run_sk",
    "epoch_ms",
    "epoch_seconds",
    "event_range",
    "event_sk",
    "events_hour_pk",
    "format_time",
    "from_epoch_ms",
    "job_prefix",
    "job_sk",
    "override_sk",
    "parse_ack_sk",
    "parse_bookkeeping_key",
    "parse_event_sk",
    "parse_job_sk",
    "parse_rerun_request_sk",
    "parse_rerun_sk",
    "parse_running_index_sk",
    "parse_sensor_sk",
    "parse_time",
    "parse_trigger_sk",
    "pipeline_id",
    "pipeline_pk",
    "rerun_prefix",
    "rerun_request_sk",
    "rerun_sk",
    "running_index_sk",
    "watch_index_sk",
    "watch_time",
    "sensor_sk",
    "thread_sk",
    "trigger_prefix",
    "trigger_sk",
]

PIPELINE_PREFIX: Final = "PIPELINE#"
CONFIG_SK: Final = "CONFIG"
SENSOR_PREFIX: Final = "SENSOR#"
TRIGGER_PREFIX: Final = "TRIGGER#"
RERUN_REQUEST_PREFIX: Final = "RERUN_REQUEST#"
DRY_RUN_PREFIX: Final = "DRY_RUN#"
OVERRIDE_PREFIX: Final = "OVERRIDE#"
ACK_PREFIX: Final = "ACK#"
CLAIM_PREFIX: Final = "CLAIM#"
THREAD_PREFIX: Final = "THREAD#"
_JOB: Final = "JOB#"
_RERUN: Final = "RERUN#"
_EVENTS_HOUR: Final = "EVENTS#"

INDEX: Final = "GSI1"
"""The control table's sparse index (and the events table's by-type index)."""
CONFIG_INDEX_PK: Final = "CONFIGS"
"""Control GSI1 partition holding every CONFIG row (sort key: the pipeline id)."""
RUNNING_INDEX_PK: Final = "RUNNING"
"""Control GSI1 partition holding RUNNING run rows only (terminal rows drop their index keys)."""
WATCH_INDEX_PK: Final = "WATCH"
"""Control GSI1 partition holding every pipeline's WATCH row, sorted by when the watchdog is due."""
SWEEP_PIPELINE: Final = "INFRASTRUCTURE"
"""The pipeline id of the watchdog's sweep row (``interlock.events.INFRASTRUCTURE``: Interlock's own)."""
WATCH_SK: Final = "WATCH"
"""The sort key of a pipeline's watchdog row (its due time; see ``interlock.store.control``)."""

# Bookkeeping rows the controller keeps in the SENSOR# namespace (reference §3.1), keyed by period.
FIRST_SENSOR_ARRIVAL: Final = "first-sensor-arrival"
POSTRUN_BASELINE: Final = "postrun-baseline"
IRREGULAR_MISSED_CHECK: Final = "irregular-missed-check"
POSTRUN_CHECK: Final = "postrun-check"
RELATIVE_SLA_BREACH_CHECK: Final = "relative-sla-breach-check"
BOOKKEEPING_NAMES: Final = frozenset(
    {
        FIRST_SENSOR_ARRIVAL,
        POSTRUN_BASELINE,
        IRREGULAR_MISSED_CHECK,
        POSTRUN_CHECK,
        RELATIVE_SLA_BREACH_CHECK,
    }
)

_MS_DIGITS: Final = 13  # epoch milliseconds have 13 digits from 2001 to 2286: they sort as text
_ATTEMPT_DIGITS: Final = 4
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------ validation


def _piece(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if "#" in value:
        raise ValueError(f"{what} {value!r} must not contain '#' (it separates key parts)")
    return value


def _run(schedule: str, period: str) -> str:
    return f"{_piece(schedule, 'schedule')}#{_piece(period, 'period')}"


def _split_run(rest: str, sk: str, what: str) -> tuple[str, str]:
    parts = rest.split("#")
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"{sk!r} is not a {what} key: expected <schedule>#<period> after the prefix"
        )
    return parts[0], parts[1]


def _after(sk: str, prefix: str, what: str) -> str:
    if not isinstance(sk, str) or not sk.startswith(prefix):
        raise ValueError(f"{sk!r} is not a {what} key: expected it to start with {prefix!r}")
    return sk[len(prefix) :]


# ------------------------------------------------------------------------------------- pipelines


def pipeline_pk(pid: str) -> str:
    """``PIPELINE#<pid>``, the partition key of everything about one pipeline.

    Raises:
        ValueError: ``pid`` is empty or contains ``#``.
    """
    return PIPELINE_PREFIX + _piece(pid, "pipeline id")


def pipeline_id(pk: str) -> str:
    """The pipeline id of a ``PIPELINE#<id>`` partition key.

    Raises:
        ValueError: ``pk`` is not a pipeline partition key (or its id is empty or holds ``#``).
    """
    return _piece(_after(pk, PIPELINE_PREFIX, "pipeline partition"), "pipeline id")


# --------------------------------------------------------------------------------------- sensors


def bookkeeping_key(name: str, period: str) -> str:
    """``<name>#<period>``, the sensor key of one of the controller's own rows (e.g. first arrival).

    Raises:
        ValueError: ``name`` is not one of :data:`BOOKKEEPING_NAMES`, or ``period`` is invalid.
    """
    if name not in BOOKKEEPING_NAMES:
        raise ValueError(f"{name!r} is not a bookkeeping row; known: {sorted(BOOKKEEPING_NAMES)}")
    return f"{name}#{_piece(period, 'period')}"


def parse_bookkeeping_key(key: str) -> tuple[str, str] | None:
    """``(name, period)`` if ``key`` is a bookkeeping sensor key, else ``None``."""
    name, sep, period = key.partition("#")
    if sep and name in BOOKKEEPING_NAMES and period and "#" not in period:
        return name, period
    return None


_PERIOD_SUFFIX: Final = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}))?")


def split_period_key(key: str) -> tuple[str, str] | None:
    """``(base, period suffix)`` of a per-period sensor key such as ``row-count#2026-03-03T07``.

    Producers that write one row per period append the period (``YYYY-MM-DD``, ``YYYYMMDD``, with an
    optional ``THH``); the runtime reads such a row under its base key for that period
    (:func:`interlock.lifecycle.run.remap_for_period`). ``None`` if ``key`` is not of that form (the
    suffix must be a real date and an hour 00-23).
    """
    base, sep, suffix = key.partition("#") if isinstance(key, str) else ("", "", "")
    match = _PERIOD_SUFFIX.fullmatch(suffix) if sep and base else None
    if match is None:
        return None
    year, month, day, hour = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour or 0))
    except ValueError:
        return None
    return base, suffix


def sensor_sk(key: str) -> str:
    """``SENSOR#<key>``.

    Args:
        key: a producer's sensor key (no ``#``), a per-period key ``<key>#<period>``
            (:func:`split_period_key`), or a :func:`bookkeeping_key`.

    Raises:
        ValueError: ``key`` is empty or contains ``#`` (other than a bookkeeping or per-period key's).
    """
    if isinstance(key, str) and (
        parse_bookkeeping_key(key) is not None or split_period_key(key) is not None
    ):
        return SENSOR_PREFIX + key
    if isinstance(key, str) and "#" in key:
        raise ValueError(
            f"sensor key {key!r} must not contain '#', except before a period: <key>#YYYY-MM-DD, "
            "<key>#YYYY-MM-DDTHH (or YYYYMMDD[THH]), a real date and an hour 00-23"
        )
    return SENSOR_PREFIX + _piece(key, "sensor key")


def parse_sensor_sk(sk: str) -> str:
    """The sensor key of a ``SENSOR#<key>`` sort key (read leniently: producers' keys are kept as written).

    Raises:
        ValueError: ``sk`` is not a sensor key or the key is empty.
    """
    key = _after(sk, SENSOR_PREFIX, "sensor")
    if not key:
        raise ValueError(f"{sk!r} has an empty sensor key")
    return key


# ------------------------------------------------------------------------------------------ runs


def trigger_sk(schedule: str, period: str) -> str:
    """``TRIGGER#<schedule>#<period>``, the run lock/state row.

    Raises:
        ValueError: a piece is empty or contains ``#``.
    """
    return TRIGGER_PREFIX + _run(schedule, period)


def trigger_prefix(schedule: str, period_prefix: str = "") -> str:
    """``TRIGGER#<schedule>#<period_prefix>``: a day's prefix also matches that day's hourly runs."""
    if "#" in period_prefix:
        raise ValueError(f"period prefix {period_prefix!r} must not contain '#'")
    return f"{TRIGGER_PREFIX}{_piece(schedule, 'schedule')}#{period_prefix}"


def parse_trigger_sk(sk: str) -> tuple[str, str]:
    """``(schedule, period)`` of a ``TRIGGER#`` sort key.

    Raises:
        ValueError: a malformed key.
    """
    return _split_run(_after(sk, TRIGGER_PREFIX, "run"), sk, "run")


def watch_time(at: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ``, always with milliseconds (rounded up), so it sorts as text.

    Raises:
        ValueError: ``at`` is naive.
    """
    utc = _utc(at)
    if utc.microsecond % 1000:
        utc += timedelta(microseconds=1000 - utc.microsecond % 1000)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def watch_index_sk(due: str, pid: str) -> str:
    """``<due>#<pid>`` (``due`` from :func:`watch_time`), a WATCH row's sort key in control GSI1."""
    return f"{due}#{_piece(pid, 'pipeline id')}"


def running_index_sk(pid: str, schedule: str, period: str) -> str:
    """``<pid>#<schedule>#<period>``, a RUNNING row's sort key in control GSI1."""
    return f"{_piece(pid, 'pipeline id')}#{_run(schedule, period)}"


def parse_running_index_sk(value: str) -> tuple[str, str, str]:
    """``(pid, schedule, period)`` of a RUNNING index sort key.

    Raises:
        ValueError: a malformed key.
    """
    parts = value.split("#") if isinstance(value, str) else []
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"{value!r} is not a running-index key: expected <pid>#<schedule>#<period>"
        )
    return parts[0], parts[1], parts[2]


def rerun_request_sk(schedule: str, period: str) -> str:
    """``RERUN_REQUEST#<schedule>#<period>``.

    Raises:
        ValueError: a piece is empty or contains ``#``.
    """
    return RERUN_REQUEST_PREFIX + _run(schedule, period)


def parse_rerun_request_sk(sk: str) -> tuple[str, str]:
    """``(schedule, period)`` of a ``RERUN_REQUEST#`` sort key.

    Raises:
        ValueError: a malformed key.
    """
    return _split_run(_after(sk, RERUN_REQUEST_PREFIX, "rerun request"), sk, "rerun request")


def dry_run_sk(schedule: str, period: str) -> str:
    """``DRY_RUN#<schedule>#<period>``, the "would have triggered" marker."""
    return DRY_RUN_PREFIX + _run(schedule, period)


def override_sk(name: str) -> str:
    """``OVERRIDE#<name>``, an operator override such as ``dry-run``."""
    return OVERRIDE_PREFIX + _piece(name, "override name")


def claim_sk(name: str, schedule: str, period: str) -> str:
    """``CLAIM#<name>#<schedule>#<period>``: something done at most once for a run's period (new)."""
    return f"{CLAIM_PREFIX}{_piece(name, 'claim name')}#{_run(schedule, period)}"


def ack_sk(schedule: str, period: str) -> str:
    """``ACK#<schedule>#<period>``, an SLA acknowledgement."""
    return ACK_PREFIX + _run(schedule, period)


def ack_prefix(schedule: str, period_prefix: str = "") -> str:
    """``ACK#<schedule>#<period_prefix>``."""
    if "#" in period_prefix:
        raise ValueError(f"period prefix {period_prefix!r} must not contain '#'")
    return f"{ACK_PREFIX}{_piece(schedule, 'schedule')}#{period_prefix}"


def parse_ack_sk(sk: str) -> tuple[str, str]:
    """``(schedule, period)`` of an ``ACK#`` sort key.

    Raises:
        ValueError: a malformed key.
    """
    return _split_run(_after(sk, ACK_PREFIX, "ack"), sk, "ack")


# --------------------------------------------------------------------------------- job and rerun


def _non_negative(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def job_prefix(schedule: str, period: str) -> str:
    """``JOB#<schedule>#<period>#``: the trailing ``#`` keeps a day's rows apart from its hours'."""
    return f"{_JOB}{_run(schedule, period)}#"


def job_sk(schedule: str, period: str, ms: int) -> str:
    """``JOB#<schedule>#<period>#<ms>`` (epoch milliseconds, 13 digits so rows sort by time)."""
    return f"{job_prefix(schedule, period)}{_non_negative(ms, 'ms'):0{_MS_DIGITS}d}"


def parse_job_sk(sk: str) -> tuple[str, str, int]:
    """``(schedule, period, ms)`` of a ``JOB#`` sort key.

    Raises:
        ValueError: a malformed key.
    """
    parts = _after(sk, _JOB, "job log").split("#")
    if len(parts) != 3 or not all(parts) or not parts[2].isdigit():
        raise ValueError(f"{sk!r} is not a job log key: expected JOB#<schedule>#<period>#<ms>")
    return parts[0], parts[1], int(parts[2])


def rerun_prefix(schedule: str, period: str) -> str:
    """``RERUN#<schedule>#<period>#``."""
    return f"{_RERUN}{_run(schedule, period)}#"


def rerun_sk(schedule: str, period: str, attempt: int) -> str:
    """``RERUN#<schedule>#<period>#<attempt>``, the attempt zero-padded to 4 digits so rows sort."""
    return (
        f"{rerun_prefix(schedule, period)}{_non_negative(attempt, 'attempt'):0{_ATTEMPT_DIGITS}d}"
    )


def parse_rerun_sk(sk: str) -> tuple[str, str, int]:
    """``(schedule, period, attempt)`` of a ``RERUN#`` sort key (the original's unpadded ones too).

    Raises:
        ValueError: a malformed key.
    """
    parts = _after(sk, _RERUN, "rerun").split("#")
    if len(parts) != 3 or not all(parts) or not parts[2].isdigit():
        raise ValueError(f"{sk!r} is not a rerun key: expected RERUN#<schedule>#<period>#<attempt>")
    return parts[0], parts[1], int(parts[2])


# ---------------------------------------------------------------------------------------- events


def event_sk(ms: int, type: str, uid: str) -> str:  # noqa: A002 - the event's type, as on the wire
    """``<ms>#<type>#<uid>``: ms zero-padded to 13 digits, so a partition's events sort by time.

    The uid makes two events of one type in the same millisecond two rows (the original overwrote one).

    Raises:
        ValueError: a negative ``ms``, or an empty type or uid, or one containing ``#``.
    """
    return f"{_non_negative(ms, 'ms'):0{_MS_DIGITS}d}#{_piece(str(type), 'event type')}#{_piece(uid, 'uid')}"


def parse_event_sk(sk: str) -> tuple[int, str, str]:
    """``(ms, type, uid)`` of an event sort key.

    Raises:
        ValueError: a malformed key.
    """
    parts = sk.split("#") if isinstance(sk, str) else []
    if len(parts) != 3 or not all(parts) or not parts[0].isdigit():
        raise ValueError(f"{sk!r} is not an event key: expected <ms>#<type>#<uid>")
    return int(parts[0]), parts[1], parts[2]


def event_range(since_ms: int | None = None, until_ms: int | None = None) -> tuple[str, str]:
    """Inclusive sort-key bounds of a partition's events with ``since_ms <= ms < until_ms``.

    Event keys start with a digit, so the bounds also keep out the partition's ``THREAD#`` rows.
    """
    low = f"{max(since_ms or 0, 0):0{_MS_DIGITS}d}"
    if until_ms is None:
        # '$' sorts just after '#': above every key of the highest millisecond.
        return low, "9" * _MS_DIGITS + "$"
    return low, f"{max(until_ms - 1, 0):0{_MS_DIGITS}d}$"


def events_hour_pk(at: datetime) -> str:
    """``EVENTS#YYYY-MM-DDTHH``: the UTC hour bucket of the events table's time index (GSI2).

    Raises:
        ValueError: ``at`` is naive.
    """
    return _EVENTS_HOUR + _utc(at).strftime("%Y-%m-%dT%H")


def thread_sk(schedule: str | None, period: str | None) -> str:
    """``THREAD#<schedule>#<period>``, a run's Slack thread.

    Events not tied to a run (INFRA_ALARM …) pass ``None`` for both and share ``THREAD##``, one thread
    per pipeline, as in the original.
    """
    parts = []
    for value, what in ((schedule, "schedule"), (period, "period")):
        if value is None or value == "":
            parts.append("")
        else:
            parts.append(_piece(value, what))
    return f"{THREAD_PREFIX}{parts[0]}#{parts[1]}"


# ----------------------------------------------------------------------------------------- times


def _utc(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def format_time(at: datetime) -> str:
    """RFC 3339 in UTC with ``Z``: seconds, or milliseconds when there is a fraction.

    Raises:
        ValueError: ``at`` is naive.
    """
    utc = _utc(at)
    spec = "seconds" if utc.microsecond == 0 else "milliseconds"
    return utc.isoformat(timespec=spec).replace("+00:00", "Z")


_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
)


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (as :func:`format_time` writes) as an aware UTC datetime.

    Raises:
        ValueError: not RFC 3339, or no offset.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp with an offset")
    return _parse_time(text)


@lru_cache(maxsize=4096)
def _parse_time(text: str) -> datetime:
    """:func:`parse_time`, once per distinct text (every read of a row parses its times again, and
    the board reads the same rows every few seconds); datetimes are immutable.

    4,096 entries (under 1 MB): a parse costs 0.6-1.2 us, so a larger cache buys little. At 65,536
    (about 14 MB when full) the watchdog's due pass over 10,000 pipelines was 0.86 s against 0.88 s at
    4,096 and 0.95 s uncached, while a runtime taking 500 new timestamps a second grew for minutes
    until it was full (``make soak``: +5.9 MB over the second half of 60 s; at 4,096, +1.1 MB)."""
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp with an offset")
    # fromisoformat (3.11) takes at most 6 fraction digits; RFC3339Nano has 9.
    head, dot, rest = text.upper().partition(".")
    if dot:
        digits = re.match(r"\d+", rest)
        assert digits is not None  # the pattern above guarantees digits after the dot
        frac = digits.group(0)
        text = f"{head}.{frac[:6]}{rest[len(frac) :]}"
    return datetime.fromisoformat(text.upper()).astimezone(UTC)


def epoch_seconds(at: datetime) -> int:
    """Whole epoch seconds (floor) of ``at``: the form of ``ttl``.

    Raises:
        ValueError: ``at`` is naive.
    """
    return (_utc(at) - _EPOCH) // timedelta(seconds=1)


def epoch_ms(at: datetime) -> int:
    """Whole epoch milliseconds (floor) of ``at``, computed exactly (no float rounding).

    Raises:
        ValueError: ``at`` is naive.
    """
    return (_utc(at) - _EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)
