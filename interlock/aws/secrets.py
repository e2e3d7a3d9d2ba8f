"""The Slack bot token: from Secrets Manager (``SLACK_SECRET_ARN``) or ``SLACK_BOT_TOKEN``.

The secret is read once per cold start and cached (a warm Lambda does not call Secrets Manager per
message). A secret may hold the bare token or a JSON object with a ``token`` / ``bot_token`` /
``SLACK_BOT_TOKEN`` field.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from interlock.aws._clients import AwsError, build_client, error_code

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["SECRET_ENV", "TOKEN_ENV", "clear_cache", "slack_token"]

SECRET_ENV: Final = "SLACK_SECRET_ARN"
TOKEN_ENV: Final = "SLACK_BOT_TOKEN"
_FIELDS: Final = ("token", "bot_token", "botToken", "SLACK_BOT_TOKEN")
_cache: dict[str, str] = {}


def clear_cache() -> None:
    """Forget cached secrets (tests; a rotated secret is read again on the next cold start)."""
    _cache.clear()


def _parse(secret: str) -> str:
    text = secret.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        for name in _FIELDS:
            value = data.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        raise AwsError(f"the Slack secret is JSON without any of the fields {', '.join(_FIELDS)}")
    return text


def slack_token(
    environ: Mapping[str, str],
    *,
    client: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> str | None:
    """The Slack bot token, or ``None`` when neither variable is set.

    Args:
        environ: the environment (``SLACK_SECRET_ARN`` wins over ``SLACK_BOT_TOKEN``).
        client: a boto3 ``secretsmanager`` client; built lazily when omitted.
        region: region of the client built here.
        endpoint_url: endpoint of the client built here.

    Raises:
        AwsError: the secret cannot be read or holds no token.
    """
    arn = environ.get(SECRET_ENV, "").strip()
    if not arn:
        token = environ.get(TOKEN_ENV, "").strip()
        return token or None
    if arn in _cache:
        return _cache[arn]
    if client is None:
        client = build_client("secretsmanager", region=region, endpoint_url=endpoint_url)
    try:
        response = client.get_secret_value(SecretId=arn)
    except Exception as exc:
        if error_code(exc):
            raise AwsError(f"cannot read the Slack secret {arn}: {exc}") from exc
        raise
    token = _parse(str(response.get("SecretString") or ""))
    if not token:
        raise AwsError(f"the Slack secret {arn} is empty")
    _cache[arn] = token
    return token
