"""Focused tests of the config loader (``interlock.config.loader``) and the YAML reader under it.

Every test writes its files into ``tmp_path``; none reads a developer's configuration.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from interlock.cli import main
from interlock.config.loader import (
    Project,
    discover_calendars_dir,
    load_calendars,
    load_pipelines,
    load_project,
    validate_config_data,
)
from interlock.config.models import PipelineConfig
from interlock.exceptions import ConfigError, Problem

GLUE_JOB = """\
job:
  type: glue
  config:
    jobName: orders-etl
"""

CALENDAR = """\
name: us-federal
days: [sat, Sunday]
dates: ["2026-11-26", "2026-12-25"]
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def pipeline(pid: str, schedule: str = 'cron: "0 8 * * *"', extra: str = "") -> str:
    """A valid pipeline file (its glue job ends the file, so ``extra`` may add job keys or sections).

    ``schedule`` is the body of ``schedule:``, written unindented.
    """
    body = textwrap.indent(textwrap.dedent(schedule).strip("\n"), "  ")
    return f"pipeline:\n  id: {pid}\n\nschedule:\n{body}\n\n{GLUE_JOB}{extra}"


def problems(path: Path | list[Path], **kwargs: object) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_project(path, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def test_pipeline_helper_writes_a_valid_file(tmp_path: Path) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders"))
    project = load_project(f)
    assert isinstance(project, Project)
    assert list(project.pipelines) == ["orders"]
    assert project.files == {"orders": f}
    assert project.warnings == []
    assert load_pipelines(f)["orders"].schedule.cron == "0 8 * * *"


# ---------------------------------------------------------------------------- every problem at once


def test_every_problem_in_a_file_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    # GIVEN three mistakes, with job written before schedule (the models validate schedule first)
    f = write(
        tmp_path,
        "orders.yaml",
        """\
        pipeline:
          id: orders
        job:
          type: glue
          config:
            jobName: orders-etl
          maxRetries: 20
        schedule:
          cron: "0 8 * * *"
          timezone: Europe/Londn
          evaluation:
            window: 10
        """,
    )
    # WHEN
    found = problems(f)
    # THEN
    assert [(p.line, p.key) for p in found] == [
        (7, "job.maxRetries"),
        (10, "schedule.timezone"),
        (12, "schedule.evaluation.window"),
    ]
    assert all(p.file == f and p.severity == "error" and p.message for p in found)
    assert "has no unit" in found[2].message


def test_problems_in_several_files_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", pipeline("a", "cron: '0 8 * *'"))
    write(tmp_path, "b.yaml", pipeline("b", "cron: '0 8 * * *'\ntimezone: Mars/Olympus"))
    write(tmp_path, "c.yaml", pipeline("c"))
    found = problems(tmp_path)
    assert [(p.file.name if p.file else None, p.key) for p in found] == [
        ("a.yaml", "schedule.cron"),
        ("b.yaml", "schedule.timezone"),
    ]


# ------------------------------------------------------------------------------ files and ids


def test_duplicate_pipeline_ids_across_directories(tmp_path: Path) -> None:
    first = write(tmp_path / "team-a", "orders.yaml", pipeline("orders"))
    second = write(tmp_path / "team-b", "orders.yaml", pipeline("orders"))
    [p] = problems([tmp_path / "team-a", tmp_path / "team-b"])
    assert p.file == second
    assert p.line == 2
    assert p.path == ("pipeline", "id")
    assert p.message == f"duplicate pipeline id 'orders', also in {first}"


def test_duplicate_pipeline_ids_from_yaml_and_yml_in_one_directory(tmp_path: Path) -> None:
    write(tmp_path, "orders.yaml", pipeline("orders"))
    write(tmp_path, "orders.yml", pipeline("orders"))
    [p] = problems(tmp_path)
    assert p.file == tmp_path / "orders.yml"
    assert "duplicate pipeline id 'orders'" in p.message


def test_file_stem_must_equal_pipeline_id(tmp_path: Path) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders-v2"))
    [p] = problems(f)
    assert (p.file, p.line, p.path) == (f, 2, ("pipeline", "id"))
    assert "'orders-v2' differs from the file name 'orders.yaml'" in p.message
    assert "rename the file to orders-v2.yaml" in p.message


def test_directory_without_yaml_files(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# pipelines go here\n")
    write(tmp_path, "orders.json", "{}")
    write(tmp_path / "nested", "orders.yaml", pipeline("orders"))  # not searched recursively
    [p] = problems(tmp_path)
    assert (p.file, p.line, p.path) == (tmp_path, None, ())
    assert p.message == "no pipeline files (*.yaml, *.yml) in this directory"


def test_missing_path_is_reported_with_the_other_paths_problems(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    bad = write(tmp_path / "dir", "orders.yaml", pipeline("orders", "cron: '61 8 * * *'"))
    found = problems([missing, bad])
    assert [(p.file, p.key) for p in found] == [(missing, "(document)"), (bad, "schedule.cron")]
    assert found[0].message == "no such file or directory"
    assert found[0].line is None
    assert str(found[0]) == f"{missing}: (document): no such file or directory"


def test_non_utf8_file(tmp_path: Path) -> None:
    f = tmp_path / "orders.yaml"
    f.write_bytes(pipeline("orders").encode() + b"# caf\xe9 (latin-1)\n")
    [p] = problems(f)
    assert p.file == f
    assert p.message.startswith("file is not UTF-8 text (byte ")


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "orders.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + pipeline("orders").encode())
    assert list(load_project(f).pipelines) == ["orders"]


def test_oversized_file_is_refused_without_parsing(tmp_path: Path) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders") + "#" + "x" * 1_000_001 + "\n")
    [p] = problems(f)
    assert p.message == "file is larger than 1000000 bytes"


# ---------------------------------------------------------------------------------- warnings


def test_unused_original_fields_warn_but_load(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "orders.yaml",
        """\
        pipeline:
          id: orders
        schedule:
          cron: "0 8 * * *"
          exclude:
            weekends: true
            holidays: us
        job:
          type: glue
          config:
            jobName: orders-etl
          pollInterval: 30s
        """,
    )
    project = load_project(f)
    assert list(project.pipelines) == ["orders"]
    assert [(w.line, w.key, w.severity) for w in project.warnings] == [
        (7, "schedule.exclude.holidays", "warning"),
        (12, "job.pollInterval", "warning"),
    ]
    assert "schedule.exclude.calendar" in project.warnings[0].message
    assert "not used" in project.warnings[1].message


def test_warnings_are_printed_and_do_not_fail_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders", extra="  pollInterval: 1m\n"))
    assert main(["validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert f"{f}:11: warning job.pollInterval: " in out
    assert "✓ 1 pipeline valid" in out


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("0 6 * * ? *", "0 6 * * *"),
        ("cron(0 6 ? * 2-6 *)", "0 6 * * 1-5"),  # AWS weekdays 1-7 start on Sunday
        ("30 7 ? * 1,7 *", "30 7 * * 0,6"),
        ("0 */2 ? * 2-6/2 *", "0 */2 * * 1-5/2"),
        ("0 6 ? * MON-FRI *", "0 6 * * MON-FRI"),
        ("0 6 1 * ? *", "0 6 1 * *"),
    ],
)
def test_aws_cron_is_translated_with_a_warning(tmp_path: Path, written: str, read_as: str) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders", f"cron: '{written}'"))
    project = load_project(f)
    assert project.pipelines["orders"].schedule.cron == read_as
    [w] = project.warnings
    assert (w.line, w.key, w.severity) == (5, "schedule.cron", "warning")
    assert w.message == f"AWS-style cron {written!r} read as the standard 5-field {read_as!r}"


def test_standard_cron_has_no_warning(tmp_path: Path) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders", "cron: '0 6 * * 1-5'"))
    project = load_project(f)
    assert project.pipelines["orders"].schedule.cron == "0 6 * * 1-5"
    assert project.warnings == []


def test_aws_weekday_out_of_range_is_an_error(tmp_path: Path) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders", "cron: '0 6 ? * 2-8 *'"))
    [p] = problems(f)
    assert (p.line, p.key) == (5, "schedule.cron")
    assert "AWS day-of-week 8 is out of range 1-7" in p.message


# ------------------------------------------------------------------------------- YAML 1.2 scalars


def test_yaml_12_scalars(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "orders.yaml",
        """\
        pipeline:
          id: orders
        schedule:
          trigger:
            key: orders-landed
            check: equals
            field: flag
            value: on
          include:
            dates: [2026-03-31, 2026-06-30]
        sla:
          deadline: 10:00
        validation:
          rules:
            - {key: a, check: equals, field: f, value: yes}
            - {key: b, check: equals, field: f, value: true}
            - {key: c, check: equals, field: f, value: 017}
            - {key: d, check: equals, field: f, value: 0o17}
            - {key: e, check: equals, field: f, value: 1.5}
        job:
          type: glue
          config:
            jobName: orders-etl
        """,
    )
    config = load_pipelines(f)["orders"]
    assert config.sla is not None and config.sla.deadline == "10:00"  # YAML 1.1: the int 600
    assert config.schedule.trigger is not None and config.schedule.trigger.value == "on"
    assert config.schedule.include is not None
    assert [d.isoformat() for d in config.schedule.include.dates] == ["2026-03-31", "2026-06-30"]
    values = [r.value for r in config.validation.rules]
    assert values == ["yes", True, 17, 15, 1.5]
    assert [type(v) for v in values] == [str, bool, int, int, float]


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    f = write(
        tmp_path,
        "orders.yaml",
        pipeline("orders") + f"dryRun: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    [p] = problems(f)
    assert "invalid YAML" in p.message
    assert "python/object/apply:os.system" in p.message
    assert not marker.exists()


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    f = write(tmp_path, "orders.yaml", "\n".join(lines) + "\n")
    [p] = problems(f)
    assert p.message == "document expands to more than 50000 values (alias bomb?)"


def test_merge_keys_are_expanded_with_their_own_lines(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "orders.yaml",
        textwrap.dedent(
            """\
            pipeline:
              id: orders
            schedule:
              cron: "0 8 * * *"
              evaluation:
                <<: {window: 1h}
                intervall: 5m
            """
        )
        + GLUE_JOB,
    )
    [p] = problems(f)
    assert (p.line, p.key) == (7, "schedule.evaluation.intervall")
    assert "did you mean 'interval'?" in p.message


# ------------------------------------------------------------------------------------ calendars


def test_calendars_beside_the_pipelines_directory_are_discovered(tmp_path: Path) -> None:
    write(tmp_path / "calendars", "us-federal.yaml", CALENDAR)
    write(
        tmp_path / "pipelines",
        "orders.yaml",
        pipeline("orders", "cron: '0 8 * * *'\nexclude:\n  calendar: us-federal"),
    )
    assert discover_calendars_dir([tmp_path / "pipelines"]) == tmp_path / "calendars"
    project = load_project(tmp_path / "pipelines")
    assert list(project.calendars) == ["us-federal"]
    assert project.calendars["us-federal"].days == ("saturday", "sunday")
    assert project.pipelines["orders"].schedule.calendar_name == "us-federal"


def test_calendars_inside_the_pipelines_directory_are_discovered(tmp_path: Path) -> None:
    write(tmp_path / "calendars", "us-federal.yaml", CALENDAR)
    f = write(
        tmp_path, "orders.yaml", pipeline("orders", "cron: '0 8 * * *'\ncalendar: us-federal")
    )
    assert discover_calendars_dir([f]) == tmp_path / "calendars"
    project = load_project(f)
    assert list(project.calendars) == ["us-federal"]
    # schedule.calendar is the original's spelling: accepted, with a nudge
    assert [(w.key, w.severity) for w in project.warnings] == [("schedule.calendar", "warning")]


def test_explicit_calendars_directory_wins_over_discovery(tmp_path: Path) -> None:
    write(tmp_path / "calendars", "us-federal.yaml", CALENDAR)
    write(tmp_path / "elsewhere", "uk.yaml", "name: uk-bank\ndates: ['2026-12-28']\n")
    write(
        tmp_path / "pipelines",
        "orders.yaml",
        pipeline("orders", "cron: '0 8 * * *'\nexclude:\n  calendar: uk-bank"),
    )
    project = load_project(tmp_path / "pipelines", calendars=tmp_path / "elsewhere")
    assert list(project.calendars) == ["uk-bank"]
    # and without it, the discovered directory does not know uk-bank
    [p] = problems(tmp_path / "pipelines")
    assert (p.line, p.key) == (7, "schedule.exclude.calendar")
    assert p.message == (
        f"unknown calendar 'uk-bank' in {tmp_path / 'calendars'}; known: us-federal"
    )


def test_explicit_calendars_directory_must_exist(tmp_path: Path) -> None:
    f = write(tmp_path / "pipelines", "orders.yaml", pipeline("orders"))
    [p] = problems(f, calendars=tmp_path / "missing")
    assert (p.file, p.message) == (tmp_path / "missing", "calendars directory not found")


def test_load_calendars_reports_every_bad_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\ndays: [funday]\n")
    write(tmp_path, "b.yaml", "name: b\ndates: ['2026-02-30']\nholidays: true\n")
    write(tmp_path, "c.yaml", CALENDAR)
    with pytest.raises(ConfigError) as info:
        load_calendars(tmp_path)
    assert [(p.file.name if p.file else None, p.line, p.key) for p in info.value.problems] == [
        ("a.yaml", 2, "days[0]"),
        ("b.yaml", 2, "dates[0]"),
        ("b.yaml", 3, "holidays"),
    ]


# ------------------------------------------------------------------------- validate_config_data


def _data(**schedule: object) -> dict[str, object]:
    return {
        "pipeline": {"id": "orders"},
        "schedule": {"cron": "0 8 * * *", **schedule},
        "job": {"type": "glue", "config": {"jobName": "orders-etl"}},
    }


def test_validate_config_data_on_a_dict() -> None:
    config = validate_config_data(_data(timezone="Europe/London"))
    assert isinstance(config, PipelineConfig)
    assert (config.id, config.schedule.timezone) == ("orders", "Europe/London")


def test_validate_config_data_reports_every_problem_without_lines() -> None:
    with pytest.raises(ConfigError) as info:
        validate_config_data(_data(timezone="Mars/Olympus", time="7pm"))
    assert [(p.file, p.line, p.key) for p in info.value.problems] == [
        (None, None, "schedule.timezone"),
        (None, None, "schedule.time"),
    ]
    assert str(info.value.problems[0]).startswith("<input>: schedule.timezone: unknown time zone")


def test_validate_config_data_names_its_source() -> None:
    with pytest.raises(ConfigError) as info:
        validate_config_data(_data(cron="0 8 * *"), source="dynamodb:CONFIG#orders")
    [p] = info.value.problems
    assert p.file == Path("dynamodb:CONFIG#orders")
    assert p.location == "dynamodb:CONFIG#orders"


def test_validate_config_data_ignores_warnings() -> None:
    data = _data(cron="0 6 * * ? *")
    config = validate_config_data(data)
    assert config.schedule.cron == "0 6 * * *"


@pytest.mark.parametrize("data", [None, [], "pipeline: x", 42])
def test_validate_config_data_refuses_non_mappings(data: object) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config_data(data)
    assert info.value.problems
    assert all(p.message for p in info.value.problems)


# ------------------------------------------------------------------------------------- hints


@pytest.mark.parametrize(
    ("key", "where", "hint"),
    [
        ("timezon", ("schedule",), "did you mean 'timezone'?"),
        ("Timezone", ("schedule",), "keys are case-sensitive: write 'timezone'"),
        ("dryrun", (), "keys are case-sensitive: write 'dryRun'"),
        ("maxRetry", ("job",), "did you mean 'maxRetries'?"),
        ("jobname", ("job", "config"), "keys are case-sensitive: write 'jobName'"),
        ("colour", ("schedule",), "allowed here: calendar, cron, evaluation, exclude, include"),
    ],
)
def test_unknown_key_hints(key: str, where: tuple[str, ...], hint: str) -> None:
    data = _data()
    node: dict[str, object] = data
    for part in where:
        sub = node[part]
        assert isinstance(sub, dict)
        node = sub
    node[key] = node.get("timezone", "x") if key.lower() == "timezone" else "x"
    with pytest.raises(ConfigError) as info:
        validate_config_data(data)
    unknown = [p for p in info.value.problems if p.path == (*where, key)]
    assert len(unknown) == 1
    assert unknown[0].message.startswith(f"unknown key {key!r}; ")
    assert hint in unknown[0].message


def test_job_config_hint_uses_the_job_type(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "orders.yaml",
        """\
        pipeline:
          id: orders
        schedule:
          cron: "0 8 * * *"
        job:
          type: lambda
          config:
            functionName: orders
            payLoad: {a: 1}
        """,
    )
    [p] = problems(f)
    assert (p.line, p.key) == (9, "job.config.payLoad")
    assert p.message == "unknown key 'payLoad'; keys are case-sensitive: write 'payload'"


# ----------------------------------------------------------------- inputs that used to crash


@pytest.mark.parametrize(
    ("schedule", "extra", "key"),
    [
        (
            "cron: '0 8 * * *'\nevaluation:\n  window: 99999999999d",
            "",
            "schedule.evaluation.window",
        ),
        ("cron: '0 8 * * *'", f"  pollInterval: {'9' * 400}s\n", "job.pollInterval"),
        ("cron: '0 8 * * *'", "sla:\n  maxDuration: 9999999999999h\n", "sla.maxDuration"),
    ],
    ids=["window-days", "pollInterval-400-digits", "maxDuration-hours"],
)
def test_huge_duration_is_a_problem_not_a_crash(
    tmp_path: Path, schedule: str, extra: str, key: str
) -> None:
    # timedelta() overflows on these (an OverflowError, which pydantic does not turn into a problem)
    f = write(tmp_path, "orders.yaml", pipeline("orders", schedule, extra))
    [p] = problems(f)
    assert p.key == key
    assert p.line is not None and p.line >= 5


@pytest.mark.parametrize("timeout", [".inf", "1e300", "100000000000000000000"])
def test_huge_numeric_timeout_is_a_problem_not_a_crash(tmp_path: Path, timeout: str) -> None:
    f = write(
        tmp_path,
        "orders.yaml",
        f"""\
        pipeline:
          id: orders
        schedule:
          cron: "0 8 * * *"
        job:
          type: command
          config:
            command: orders-etl
            timeout: {timeout}
        """,
    )
    [p] = problems(f)
    assert (p.line, p.key) == (9, "job.config.timeout")


def test_huge_integer_rule_value_loads_exactly(tmp_path: Path) -> None:
    # A 400-digit threshold is a valid number (beyond float range): it must load, not crash.
    f = write(
        tmp_path,
        "orders.yaml",
        pipeline("orders")
        + "validation:\n  rules:\n    - {key: rows, check: gte, field: n, value: "
        + "9" * 400
        + "}\n",
    )
    config = load_project(f).pipelines["orders"]
    assert config.validation.rules[0].value == int("9" * 400)


@pytest.mark.parametrize("zone", ["A" * 300, "Europe/" + "x" * 300])
def test_overlong_time_zone_is_a_problem_not_a_crash(tmp_path: Path, zone: str) -> None:
    # ZoneInfo raises OSError(ENAMETOOLONG) for a key longer than a file name
    f = write(tmp_path, "orders.yaml", pipeline("orders", f"cron: '0 8 * * *'\ntimezone: {zone}"))
    [p] = problems(f)
    assert (p.line, p.key) == (6, "schedule.timezone")


# --------------------------------------------------------------------------- known loader bugs


def test_overlong_time_zone_message_stays_short(tmp_path: Path) -> None:
    f = write(
        tmp_path, "orders.yaml", pipeline("orders", "cron: '0 8 * * *'\ntimezone: " + "A" * 300)
    )
    [p] = problems(f)
    assert len(p.message) <= 200
    assert "abbreviation" not in p.message


def test_deeply_nested_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    f = write(tmp_path, "orders.yaml", "pipeline: " + "[" * 2000 + "]" * 2000 + "\n")
    [p] = problems(f)
    assert p.message


@pytest.mark.parametrize("value", ["!!timestamp soon", "!!bool maybe", "!!float ''"])
def test_explicit_tag_on_bad_text_is_a_problem_not_a_crash(tmp_path: Path, value: str) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders") + f"dryRun: {value}\n")
    [p] = problems(f)
    assert "invalid YAML" in p.message


@pytest.mark.parametrize("key", ["true", "1", "~"])
def test_non_string_key_is_reported_on_its_own_line(tmp_path: Path, key: str) -> None:
    f = write(tmp_path, "orders.yaml", pipeline("orders") + f"{key}: on\n")
    [p] = problems(f)
    assert p.line == 11
    assert key in p.key or key in p.message


def test_unknown_tag_is_reported_on_its_line(tmp_path: Path) -> None:
    f = write(
        tmp_path, "orders.yaml", pipeline("orders") + "dryRun: !!python/object:os.system {}\n"
    )
    [p] = problems(f)
    assert p.line == 11
    assert "\n" not in p.message


def test_invalid_include_date_is_not_also_called_empty() -> None:
    data = _data()
    schedule = data["schedule"]
    assert isinstance(schedule, dict)
    del schedule["cron"]
    schedule["trigger"] = {"key": "ledger"}
    schedule["include"] = {"dates": ["2026-02-30"]}
    with pytest.raises(ConfigError) as info:
        validate_config_data(data)
    assert [p.key for p in info.value.problems] == ["schedule.include.dates[0]"]


def test_negative_poll_window_is_refused() -> None:
    data = _data()
    job = data["job"]
    assert isinstance(job, dict)
    job["jobPollWindowSeconds"] = -30
    try:
        validate_config_data(data)
    except ConfigError as exc:
        found = exc.problems
    else:
        found = []
    assert [p.key for p in found] == ["job.jobPollWindowSeconds"]


def test_duplicate_calendar_name_names_the_other_file(tmp_path: Path) -> None:
    write(tmp_path, "us-federal.yaml", CALENDAR)
    write(tmp_path, "us-federal-2027.yaml", CALENDAR)
    with pytest.raises(ConfigError) as info:
        load_calendars(tmp_path)
    [p] = info.value.problems
    assert "duplicate calendar name 'us-federal'" in p.message
    other = ({"us-federal.yaml", "us-federal-2027.yaml"} - {p.file.name if p.file else ""}).pop()
    assert other in p.message


# ------------------------------------------------------------- flow nesting refused before parsing


def test_deep_flow_nesting_is_refused_with_its_line_before_yaml_parses_it() -> None:
    from interlock.config.yamlsource import MAX_DEPTH, read_yaml

    text = "pipeline: {id: deep}\nbody: " + "[" * 3000 + "1" + "]" * 3000 + "\n"
    doc = read_yaml(text)
    assert [(p.line, p.message) for p in doc.problems] == [
        (2, f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
    ]


@pytest.mark.parametrize(
    "body",
    [
        "'" + "[" * 200 + "'",  # inside a single-quoted scalar
        '"' + "{" * 200 + '\\"' + '"',  # inside a double-quoted scalar, with an escaped quote
        "ok  # " + "[" * 200,  # inside a comment
        "[" + ", ".join(["[1]"] * 200) + "]",  # many brackets, never deeper than 2
    ],
)
def test_brackets_that_do_not_nest_are_not_refused(body: str) -> None:
    from interlock.config.yamlsource import read_yaml

    doc = read_yaml(f"pipeline: {{id: ok}}\nnote: {body}\nwho: it's fine\n")
    assert doc.problems == []
