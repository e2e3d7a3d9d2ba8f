"""Load pipeline and calendar files, reporting every problem at once with file, line and key.

``load_pipelines(path)`` reads one file or every ``*.yaml``/``*.yml`` in a directory and returns the
configs keyed by ``pipeline.id``. Nothing is returned unless everything is valid: one
:class:`~interlock.exceptions.ConfigError` lists every problem in every file, each with its file, line,
key path and a message that says what to write instead. The checks, in order:

1. YAML itself (syntax, duplicate keys, several documents, alias bombs, size) — see ``yamlsource``;
2. the models (types, bounds, unknown keys with a "did you mean", cross-field rules);
3. across files: the file stem must equal ``pipeline.id``; ids must be unique; named calendars exist.

Warnings (fields the original product parsed but never used, AWS crons that were translated) do not stop
loading; :func:`load_project` returns them.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from interlock.config.budget import DEFAULT_TRIGGER_MAX_ATTEMPTS, timeout_problem
from interlock.config.document import SourceDocument
from interlock.config.models import JOB_MODELS, Calendar, PipelineConfig, url_host
from interlock.config.types import normalize_cron
from interlock.exceptions import ConfigError, Problem
from interlock.ssrf import host_refusal

__all__ = [
    "Project",
    "discover_calendars_dir",
    "load_calendars",
    "load_pipelines",
    "load_project",
    "validate_config_data",
]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Project:
    """Everything loaded from a pipelines path (and its calendars).

    Attributes:
        pipelines: configs keyed by ``pipeline.id``.
        calendars: named calendars keyed by name.
        files: the file each pipeline came from.
        warnings: problems that do not stop loading.
    """

    pipelines: dict[str, PipelineConfig] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def load_pipelines(
    path: str | Path, *, calendars: str | Path | None = None
) -> dict[str, PipelineConfig]:
    """Load one pipeline file or a directory of them.

    Args:
        path: a ``.yaml``/``.yml`` file or a directory holding them (not searched recursively).
        calendars: directory of named calendars; by default ``calendars/`` inside ``path`` or beside it.

    Returns:
        Configs keyed by ``pipeline.id``.

    Raises:
        ConfigError: listing every problem found.
    """
    return load_project(path, calendars=calendars).pipelines


def load_project(
    path: str | Path | Iterable[str | Path],
    *,
    calendars: str | Path | None = None,
    sfn_timeout_seconds: int | None = None,
    trigger_max_attempts: int = DEFAULT_TRIGGER_MAX_ATTEMPTS,
) -> Project:
    """Load pipelines (files, directories, or several of them) with their calendars and warnings.

    Args:
        path: pipeline files or directories.
        calendars: directory of named calendars (default: found beside ``path``).
        sfn_timeout_seconds: the deployment's state machine timeout: refuse a pipeline whose longest
            run does not fit in it (:mod:`interlock.config.budget`); ``None``: not checked.
        trigger_max_attempts: the deployment's trigger retries (part of the longest run).

    Raises:
        ConfigError: listing every error found (warnings are returned in ``Project.warnings``).
    """
    paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    errors: list[Problem] = []
    project = Project()
    files = _collect_files(paths, errors)

    cal_dir = Path(calendars) if calendars is not None else discover_calendars_dir(paths)
    broken_calendars: set[str] = set()
    if cal_dir is not None:
        project.calendars = _load_calendars(cal_dir, errors, broken_calendars)

    for f in files:
        doc = _read(f, errors)
        if doc is None:
            continue
        config, problems = _validate(doc, f)
        for prob in problems:
            (project.warnings if prob.severity == "warning" else errors).append(prob)
        if config is not None and sfn_timeout_seconds is not None:
            errors.extend(_timeout(config, doc, f, sfn_timeout_seconds, trigger_max_attempts))
        if config is not None:
            _add(project, config, doc, f, cal_dir, errors, broken_calendars)

    if errors:
        raise ConfigError(errors)
    return project


def _timeout(
    config: PipelineConfig, doc: SourceDocument, f: Path, timeout: int, attempts: int
) -> list[Problem]:
    """The state machine timeout problem, blamed on the window that was set (the poll window first)."""
    message = timeout_problem(config, timeout, trigger_max_attempts=attempts)
    if message is None:
        return []
    data = doc.data if isinstance(doc.data, dict) else {}
    job = data.get("job")
    key: tuple[str | int, ...] = ("job", "jobPollWindowSeconds")
    if not isinstance(job, dict) or "jobPollWindowSeconds" not in job:
        key = ("schedule", "evaluation", "window")
    return [Problem(f, doc.line_of(key), key, message)]


def _collect_files(paths: list[Path], errors: list[Problem]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in YAML_SUFFIXES and f.is_file())
            if not found:
                errors.append(
                    Problem(p, None, (), "no pipeline files (*.yaml, *.yml) in this directory")
                )
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            errors.append(Problem(p, None, (), "no such file or directory"))
    return files


def _add(
    project: Project,
    config: PipelineConfig,
    doc: SourceDocument,
    f: Path,
    cal_dir: Path | None,
    errors: list[Problem],
    broken_calendars: set[str],
) -> None:
    """Cross-file checks (stem, duplicate id, calendar exists), then add the pipeline."""
    pid = config.id
    id_line = doc.line_of(("pipeline", "id"))
    if f.stem != pid:
        errors.append(
            Problem(
                f,
                id_line,
                ("pipeline", "id"),
                f"pipeline.id {pid!r} differs from the file name {f.name!r}: rename the file to "
                f"{pid}.yaml (the id names the pipeline everywhere, the file must agree)",
            )
        )
    if pid in project.files:
        errors.append(
            Problem(
                f,
                id_line,
                ("pipeline", "id"),
                f"duplicate pipeline id {pid!r}, also in {project.files[pid]}",
            )
        )
        return
    cal = config.schedule.calendar_name
    # A calendar whose own file is broken is reported there; naming it here is not a second error.
    if cal is not None and cal not in project.calendars and cal not in broken_calendars:
        exclude = config.schedule.exclude
        key: tuple[str, ...] = (
            ("schedule", "exclude", "calendar")
            if exclude and exclude.calendar
            else ("schedule", "calendar")
        )
        where = (
            f"in {cal_dir}"
            if cal_dir is not None
            else "(no calendars directory found; pass --calendars DIR)"
        )
        known = ", ".join(sorted(project.calendars)) or "none"
        errors.append(
            Problem(f, doc.line_of(key), key, f"unknown calendar {cal!r} {where}; known: {known}")
        )
    project.pipelines[pid] = config
    project.files[pid] = f


def discover_calendars_dir(paths: Iterable[Path]) -> Path | None:
    """The default calendars directory: ``calendars/`` inside a pipelines directory or beside it."""
    for p in paths:
        base = p if p.is_dir() else p.parent
        for candidate in (base / "calendars", base.parent / "calendars"):
            if candidate.is_dir():
                return candidate
    return None


def load_calendars(directory: str | Path) -> dict[str, Calendar]:
    """Load every named calendar (``*.yaml``/``*.yml``) in a directory.

    Raises:
        ConfigError: listing every problem found.
    """
    errors: list[Problem] = []
    out = _load_calendars(Path(directory), errors, set())
    if errors:
        raise ConfigError(errors)
    return out


def _load_calendars(
    directory: Path, errors: list[Problem], broken: set[str]
) -> dict[str, Calendar]:
    """Valid calendars by name; problems go to ``errors`` and the names of broken files to ``broken``."""
    out: dict[str, Calendar] = {}
    files: dict[str, Path] = {}
    if not directory.is_dir():
        errors.append(Problem(directory, None, (), "calendars directory not found"))
        return out
    for f in sorted(x for x in directory.iterdir() if x.suffix in YAML_SUFFIXES and x.is_file()):
        doc = _read(f, errors)
        if doc is None:
            broken.add(f.stem)
            continue
        try:
            cal = Calendar.model_validate(doc.data)
        except ValidationError as exc:
            errors.extend(_problems_from(exc, doc, f, Calendar))
            name = doc.data.get("name") if isinstance(doc.data, dict) else None
            broken.add(name if isinstance(name, str) else f.stem)
            continue
        if cal.name in out:
            errors.append(
                Problem(
                    f,
                    doc.line_of(("name",)),
                    ("name",),
                    f"duplicate calendar name {cal.name!r}, also in {files[cal.name].name}",
                )
            )
            continue
        out[cal.name] = cal
        files[cal.name] = f
    return out


def validate_config_data(data: Any, *, source: str | Path | None = None) -> PipelineConfig:
    """Validate already-parsed config data (e.g. a JSON CONFIG row from the store).

    Raises:
        ConfigError: listing every problem (without line numbers).
    """
    file = Path(source) if source is not None else None
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise ConfigError(
            [
                Problem(
                    file,
                    None,
                    (),
                    f"expected a mapping of keys (pipeline:, schedule:, …), found {kind}",
                )
            ]
        )
    doc = SourceDocument(data=data)
    config, problems = _validate(doc, file)
    errors = [p for p in problems if p.severity == "error"]
    if config is None or errors:
        raise ConfigError(errors)
    return config


# ------------------------------------------------------------------------------------ internals


def _read(f: Path, errors: list[Problem]) -> SourceDocument | None:
    try:
        raw = f.read_bytes()
    except OSError as exc:
        errors.append(Problem(f, None, (), f"cannot read file: {exc.strerror or exc}"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(Problem(f, None, (), f"file is not UTF-8 text (byte {exc.start})"))
        return None
    from interlock.config.yamlsource import read_yaml  # PyYAML: only where a file is read

    doc = read_yaml(text)
    if doc.problems:
        errors.extend(Problem(f, p.line, p.path, p.message) for p in doc.problems)
        return None
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "nothing"
        errors.append(
            Problem(f, 1, (), f"expected a mapping of keys (pipeline:, schedule:, …), found {kind}")
        )
        return None
    return doc


def _validate(doc: SourceDocument, f: Path | None) -> tuple[PipelineConfig | None, list[Problem]]:
    problems = _warnings(doc, f)
    try:
        config = PipelineConfig.model_validate(doc.data)
    except ValidationError as exc:
        return None, problems + _problems_from(exc, doc, f, PipelineConfig)
    return config, problems


def _problems_from(
    exc: ValidationError, doc: SourceDocument, f: Path | None, root: type[BaseModel]
) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    errors = exc.errors(include_url=False)
    for err in errors:
        if err["type"] == "too_short" and any(
            e is not err and e["loc"][: len(err["loc"])] == err["loc"] for e in errors
        ):
            continue  # "must not be empty" because its only items were invalid: those errors say why
        path = _real_path(err["loc"], doc.data)
        msg = _message(err, path, doc.data, root)
        if msg.startswith("@") and ": " in msg:
            # Cross-field validators name the key they blame as "@key: message" (see models.py).
            sub, msg = msg[1:].split(": ", 1)
            path = (*path, *(int(p) if p.isdigit() else p for p in sub.split(".")))
        if err["type"] == "union_tag_invalid":
            path = (*path, "type")
        key = (path, msg)
        if key in seen:
            continue
        seen.add(key)
        out.append(Problem(f, doc.line_of(path), path, msg))
    out.sort(key=lambda p: p.line or 0)
    return out


def _real_path(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Map a pydantic error location onto the document, dropping union tags and validator names."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and (
            part in JOB_MODELS or "[" in part or part.startswith("function-")
        ):
            continue  # a discriminated-union tag or a validator name, not a key in the file
        else:
            path.append(part)  # a missing key: keep it so the message names it
            node = None
    return tuple(path)


def _unknown_key_message(path: tuple[str | int, ...], data: Any, root: type[BaseModel]) -> str:
    key = path[-1] if path else "?"
    allowed = _allowed_keys(root, path[:-1], data)
    hint = ""
    if isinstance(key, str) and allowed:
        lower = {a.lower(): a for a in allowed}
        if key.lower() in lower:
            hint = f"; keys are case-sensitive: write {lower[key.lower()]!r}"
        else:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if close:
                hint = f"; did you mean {close[0]!r}?"
        if not hint:
            hint = f"; allowed here: {', '.join(sorted(allowed))}"
    return f"unknown key {key!r}{hint}"


def _message(err: Any, path: tuple[str | int, ...], data: Any, root: type[BaseModel]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return _unknown_key_message(path, data, root)
    if kind == "missing":
        return f"required key {path[-1]!r} is missing" if path else "required value missing"
    if kind == "union_tag_invalid":
        tag = str(err.get("ctx", {}).get("tag", ""))
        return (
            f"unknown job type {tag!r}; expected one of: "
            + ", ".join(sorted(JOB_MODELS))
            + did_you_mean(tag, JOB_MODELS)
        )
    if kind == "union_tag_not_found":
        return "required key 'type' is missing (one of: " + ", ".join(sorted(JOB_MODELS)) + ")"
    if kind in {"enum", "literal_error"}:
        got = err.get("input")
        expected = err.get("ctx", {}).get("expected", "")
        return f"{got!r} is not allowed here; expected {expected}"
    if kind in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return (
            f"{_short(err.get('input'))} is out of range: {err['msg'][len('Input should be ') :]}"
        )
    if kind in {"string_too_short", "too_short"}:
        return "must not be empty"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind in {
        "string_type",
        "int_type",
        "float_type",
        "bool_type",
        "dict_type",
        "list_type",
        "tuple_type",
        "model_type",
        "int_parsing",
        "float_parsing",
        "bool_parsing",
    }:
        msg += f" (got {_short(err.get('input'))})"
    return msg


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(root: type[BaseModel], path: tuple[str | int, ...], data: Any) -> list[str]:
    """The keys a model accepts at ``path`` (for "did you mean"), resolving job types from the data."""
    model: Any = root
    node = data
    for part in path:
        if isinstance(part, int):
            model = _item_type(model)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        info = model.model_fields.get(part)
        if info is None:
            return []
        sub = node.get(part) if isinstance(node, dict) else None
        if part == "job" and isinstance(sub, dict) and sub.get("type") in JOB_MODELS:
            model = JOB_MODELS[sub["type"]]
        else:
            model = _unwrap(info.annotation)
        node = sub
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        models = [
            a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        return models[0] if len(models) == 1 else annotation
    return annotation


def _item_type(model: Any) -> Any:
    args = get_args(model)
    return _unwrap(args[0]) if args else None


_UNUSED = {
    (
        "schedule",
        "exclude",
        "holidays",
    ): "the original parsed schedule.exclude.holidays but never used it; "
    "name a calendar with schedule.exclude.calendar instead",
    ("job", "pollInterval"): "job.pollInterval is not used (the original ignored it too); "
    "polling follows the state machine's interval",
    (
        "postRun",
        "evaluation",
    ): "postRun.evaluation is not used (post-run checks run on sensor writes)",
}


def _url_warnings(doc: SourceDocument, f: Path | None) -> list[Problem]:
    # A loopback or private address is refused at run time unless `interlock run --allow-private`
    # (the model refuses metadata, multicast and other never-a-job addresses outright).
    job = doc.data.get("job") if isinstance(doc.data, Mapping) else None
    config = job.get("config") if isinstance(job, Mapping) else None
    out: list[Problem] = []
    if not isinstance(config, Mapping):
        return out
    for key in ("url", "workspaceUrl"):
        value = config.get(key)
        host = url_host(value) if isinstance(value, str) and "${" not in value else None
        reason = host_refusal(host) if host else None
        if reason is not None:
            path = ("job", "config", key)
            message = (
                f"job.config.{key} points at a {reason} address: the SSRF guard refuses it at run "
                "time unless Interlock runs with --allow-private (a trusted internal endpoint)"
            )
            out.append(Problem(f, doc.line_of(path), path, message, severity="warning"))
    return out


def _warnings(doc: SourceDocument, f: Path | None) -> list[Problem]:
    data = doc.data
    out: list[Problem] = []
    if not isinstance(data, Mapping):
        return out
    out += _url_warnings(doc, f)
    for path, msg in _UNUSED.items():
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            out.append(Problem(f, doc.line_of(path), path, msg, severity="warning"))
    schedule = data.get("schedule")
    if isinstance(schedule, Mapping):
        cron = schedule.get("cron")
        if isinstance(cron, str):
            try:
                _, note = normalize_cron(cron)
            except ValueError:
                note = None  # the model reports it as an error
            if note:
                out.append(
                    Problem(
                        f,
                        doc.line_of(("schedule", "cron")),
                        ("schedule", "cron"),
                        note,
                        severity="warning",
                    )
                )
        if "calendar" in schedule:
            out.append(
                Problem(
                    f,
                    doc.line_of(("schedule", "calendar")),
                    ("schedule", "calendar"),
                    "schedule.calendar is read as schedule.exclude.calendar; prefer that spelling",
                    severity="warning",
                )
            )
    return out
