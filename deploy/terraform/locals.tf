locals {
  prefix     = "${var.environment}-interlock"
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  use_cmk    = var.kms_key_arn != ""

  # The six handlers: lambdas/<key>.py exposes handler(event, context). Names use hyphens.
  functions = {
    stream_router    = { name = "${local.prefix}-stream-router", timeout = 60, memory = var.lambda_memory_size }
    orchestrator     = { name = "${local.prefix}-orchestrator", timeout = 120, memory = var.lambda_memory_size }
    sla_monitor      = { name = "${local.prefix}-sla-monitor", timeout = 30, memory = var.lambda_memory_size }
    watchdog         = { name = "${local.prefix}-watchdog", timeout = 60, memory = var.lambda_memory_size }
    event_sink       = { name = "${local.prefix}-event-sink", timeout = 30, memory = 128 }
    alert_dispatcher = { name = "${local.prefix}-alert-dispatcher", timeout = 30, memory = 128 }
  }

  table_names = { for t in ["control", "joblog", "rerun", "events"] : t => "${local.prefix}-${t}" }

  # Built as strings, not resource references: sla-monitor's own ARN in its environment would be a cycle.
  function_arns = {
    for k, f in local.functions : k => "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${f.name}"
  }
  sfn_name           = "${local.prefix}-pipeline"
  sfn_arn            = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.sfn_name}"
  scheduler_group    = "${local.prefix}-sla"
  scheduler_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${local.prefix}-scheduler-sla"

  env_contract = jsondecode(file("${path.module}/lambda_env.json"))

  env_common = {
    ENVIRONMENT    = var.environment
    CONTROL_TABLE  = local.table_names.control
    JOBLOG_TABLE   = local.table_names.joblog
    RERUN_TABLE    = local.table_names.rerun
    EVENTS_TABLE   = local.table_names.events
    EVENT_BUS_NAME = "${local.prefix}-events"
  }
  env_scheduler = {
    SLA_MONITOR_ARN      = local.function_arns.sla_monitor
    SCHEDULER_ROLE_ARN   = local.scheduler_role_arn
    SCHEDULER_GROUP_NAME = local.scheduler_group
  }
  slack_token_env = var.slack_secret_arn == "" && var.slack_bot_token != "" ? { SLACK_BOT_TOKEN = var.slack_bot_token } : {}

  lambda_env = {
    stream_router = merge(local.env_common, local.env_scheduler, {
      STATE_MACHINE_ARN   = local.sfn_arn
      SFN_TIMEOUT_SECONDS = tostring(var.sfn_timeout_seconds)
    })
    orchestrator = merge(local.env_common, {
      SFN_TIMEOUT_SECONDS = tostring(var.sfn_timeout_seconds)
    })
    sla_monitor = merge(local.env_common, local.env_scheduler, {
      STATE_MACHINE_ARN   = local.sfn_arn
      SFN_TIMEOUT_SECONDS = tostring(var.sfn_timeout_seconds)
    })
    watchdog = merge(local.env_common, local.env_scheduler, {
      STATE_MACHINE_ARN   = local.sfn_arn
      SFN_TIMEOUT_SECONDS = tostring(var.sfn_timeout_seconds)
      # the stream-router's on-failure destinations, replayed by each pass (interlock.aws.stream_replay)
      STREAM_DLQ_CONTROL_URL = aws_sqs_queue.stream_dlq["control"].url
      STREAM_DLQ_JOBLOG_URL  = aws_sqs_queue.stream_dlq["joblog"].url
    })
    event_sink = merge(local.env_common, {
      EVENTS_TTL_DAYS = tostring(var.events_table_ttl_days)
    })
    alert_dispatcher = merge(local.env_common, {
      EVENTS_TTL_DAYS  = tostring(var.events_table_ttl_days)
      SLACK_CHANNEL_ID = var.slack_channel_id
      # interlock.alerts.slack reads SLACK_CHANNEL; the original's name is SLACK_CHANNEL_ID: both are set.
      SLACK_CHANNEL    = var.slack_channel_id
      SLACK_SECRET_ARN = var.slack_secret_arn
    }, local.slack_token_env)
  }

  # Event types the alert rule routes to SQS: generated from interlock/events.py by
  # deploy/gen_alert_types.py (a test fails when this file and the catalogue drift).
  alert_types = jsondecode(file("${path.module}/alert_types.json")).alert_types

  table_arns = {
    for t, name in local.table_names : t => "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${name}"
  }
}
