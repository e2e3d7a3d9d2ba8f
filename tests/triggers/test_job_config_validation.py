"""``interlock validate`` refuses a job config that cannot run, with file and line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from interlock.config.loader import load_project
from interlock.config.models import url_host
from interlock.exceptions import ConfigError
from interlock.ssrf import host_refusal

if TYPE_CHECKING:
    from pathlib import Path

HEAD = """pipeline:
  id: p
schedule:
  trigger: {key: landed, check: exists}
validation:
  rules:
    - {key: landed, check: exists}
job:
"""


def problems(tmp_path: Path, job: str) -> list[tuple[int | None, str, str]]:
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + job, encoding="utf-8")
    try:
        project = load_project(path)
    except ConfigError as exc:
        return [(p.line, p.key, p.message) for p in exc.problems]
    return [(p.line, p.key, f"warning: {p.message}") for p in project.warnings]


@pytest.mark.parametrize(
    ("job", "line", "text"),
    [
        ("  type: glue\n  config: {arguments: {--a: b}}\n", 10, "jobName"),
        ("  type: glue\n  config:\n    jobName: ''\n", 11, "jobName"),
        (
            "  type: step-function\n  config:\n    stateMachineArn: arn:aws:states:eu-west-1:12:stateMachine:x\n",
            11,
            "stateMachineArn 'arn:aws:states:eu-west-1:12:stateMachine:x' is malformed",
        ),
        ("  type: lambda\n  config:\n    functionName: 'my function'\n", 11, "functionName"),
        (
            "  type: emr\n  config:\n    clusterId: cluster-1\n    stepName: s\n    command: x.jar\n",
            11,
            "clusterId 'cluster-1' is malformed",
        ),
        (
            "  type: emr-serverless\n  config:\n    applicationId: a\n    jobName: j\n",
            10,
            "required key 'executionRoleArn' is missing",
        ),
        (
            "  type: emr-serverless\n  config:\n    applicationId: a\n    jobName: j\n"
            "    executionRoleArn: role/x\n    jobDriver: {}\n",
            13,
            "executionRoleArn 'role/x' is malformed",
        ),
        (
            "  type: databricks\n  config:\n    workspaceUrl: http://169.254.169.254/latest\n    jobId: 1\n",
            11,
            "SSRF guard",
        ),
        (
            "  type: airflow\n  config:\n    url: 'http://[fe80::1]:8080'\n    dagId: d\n",
            11,
            "link-local",
        ),
        (
            "  type: databricks\n  config:\n    workspaceUrl: https://x.cloud\n    jobId: my-job\n",
            12,
            "jobId",
        ),
        (
            "  type: airflow\n  config:\n    url: https://a.example\n    dagId: d\n    auth: {bearer: t, secret: s}\n",
            13,
            "exactly one of",
        ),
        (
            "  type: airflow\n  config:\n    url: https://a.example\n    dagId: d\n    auth: {username: u}\n",
            13,
            "both username and password",
        ),
    ],
)
def test_bad_job_configs_are_refused_with_their_line(
    tmp_path: Path, job: str, line: int, text: str
) -> None:
    found = problems(tmp_path, job)
    assert any(text in f"{key}: {msg}" and where == line for where, key, msg in found), found
    assert not any(m.startswith("warning") for _l, _k, m in found)


def test_a_private_url_is_a_warning_not_an_error(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "  type: airflow\n  config:\n    url: http://localhost:8080\n    dagId: d\n"
    )
    assert found == [
        (
            11,
            "job.config.url",
            "warning: job.config.url points at a loopback (localhost) address: the SSRF guard "
            "refuses it at run time unless Interlock runs with --allow-private (a trusted internal "
            "endpoint)",
        )
    ]


@pytest.mark.parametrize(
    "job",
    [
        "  type: step-function\n  config:\n    stateMachineArn: arn:aws:states:us-east-1:123456789012:stateMachine:load\n",
        "  type: step-function\n  config:\n    stateMachineArn: ${state_machine_arn}\n",
        "  type: lambda\n  config:\n    functionName: arn:aws:lambda:eu-west-1:123456789012:function:f:live\n",
        "  type: lambda\n  config:\n    functionName: 123456789012:function:f\n",
        "  type: emr\n  config:\n    clusterId: j-2AXXXXXXGAPLF\n    stepName: s\n    command: x.jar\n",
        "  type: databricks\n  config:\n    workspaceUrl: https://x.cloud\n    jobId: '42'\n",
        "  type: airflow\n  config:\n    url: https://93.184.215.14\n    dagId: d\n",
    ],
)
def test_good_job_configs_load(tmp_path: Path, job: str) -> None:
    assert problems(tmp_path, job) == []


def test_url_host_and_host_refusal() -> None:
    assert url_host("https://user:pw@example.com:8443/x?y") == "example.com"
    assert url_host("http://[::1]:80/") == "::1"
    assert url_host("ftp://x") is None
    assert host_refusal("LOCALHOST.") == "loopback (localhost)"
    assert host_refusal("example.com") is None
    assert host_refusal("10.0.0.1") == "private"
    assert host_refusal("8.8.8.8") is None
