"""AWS adapters of the ports (DESIGN §5) and the Lambda runtime's wiring.

::

    _clients.py     lazily built boto3 clients (endpoint_url honoured), AwsError, error codes
    executions.py   StepFunctionsExecutions: the Executions port on Step Functions
    timers.py       SchedulerTimers: the Timers port on EventBridge Scheduler one-time schedules
    bus.py          EventBridgeBus: the EventBus port on EventBridge PutEvents
    secrets.py      slack_token(): the Slack bot token from Secrets Manager or the environment
    runtime.py      AwsRuntime: settings from the environment, the store, ports and core, per cold start

Nothing here imports boto3 at import time: a client is built on first use, so ``import interlock``
(and the embedded runtime) never needs the ``aws`` extra.
"""

from __future__ import annotations

__all__: list[str] = []
