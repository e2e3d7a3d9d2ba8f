# terraform test with a mocked AWS provider: names, counts, env vars, ESM settings, IAM statements, the
# 13 alarms, the alert rule, the config loader and every precondition. Offline (the provider mirror).

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # the provider validates ARNs it is given, so mocked ones must look like ARNs
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock" }
  }
  mock_resource "aws_lambda_layer_version" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:layer:mock:1" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mock" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/mock", stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/mock/stream/1" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/mock" }
  }
  mock_resource "aws_cloudwatch_event_bus" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:event-bus/mock" }
  }
}

# distinct values where an assertion must tell two instances apart
override_resource {
  target = aws_sqs_queue.stream_dlq["control"]
  values = { arn = "arn:aws:sqs:eu-west-1:123456789012:sr-control-dlq" }
}
override_resource {
  target = aws_sqs_queue.stream_dlq["joblog"]
  values = { arn = "arn:aws:sqs:eu-west-1:123456789012:sr-joblog-dlq" }
}
override_resource {
  target = aws_dynamodb_table.this["control"]
  values = { stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/control/stream/1" }
}
override_resource {
  target = aws_dynamodb_table.this["joblog"]
  values = { stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/joblog/stream/1" }
}
override_resource {
  target = aws_lambda_function.this["orchestrator"]
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:orchestrator" }
}

variables {
  environment    = "test"
  dist_path      = "tests/fixtures/zips"
  pipelines_path = "../../examples/pipelines"
}

run "resources" {
  command = apply

  assert {
    condition     = length(aws_dynamodb_table.this) == 4 && toset(values(aws_dynamodb_table.this)[*].name) == toset(["test-interlock-control", "test-interlock-joblog", "test-interlock-rerun", "test-interlock-events"])
    error_message = "four tables named {env}-interlock-{control,joblog,rerun,events}"
  }
  assert {
    condition     = alltrue([for t in values(aws_dynamodb_table.this) : t.hash_key == "PK" && t.range_key == "SK" && t.billing_mode == "PAY_PER_REQUEST" && t.deletion_protection_enabled && t.point_in_time_recovery[0].enabled && t.server_side_encryption[0].enabled && t.ttl[0].attribute_name == "ttl"])
    error_message = "every table: PK/SK, on-demand, deletion protection, PITR, SSE, TTL on ttl"
  }
  assert {
    condition     = aws_dynamodb_table.this["control"].stream_enabled && aws_dynamodb_table.this["joblog"].stream_enabled && !aws_dynamodb_table.this["rerun"].stream_enabled && !aws_dynamodb_table.this["events"].stream_enabled
    error_message = "streams on control and joblog only"
  }
  assert {
    condition = {
      for g in aws_dynamodb_table.this["events"].global_secondary_index : g.name => [g.hash_key, g.range_key]
      } == { GSI1 = ["eventType", "timestamp"], GSI2 = ["GSI2PK", "timestamp"] } && {
      for g in aws_dynamodb_table.this["control"].global_secondary_index : g.name => [g.hash_key, g.range_key]
    } == { GSI1 = ["GSI1PK", "GSI1SK"] }
    error_message = "events GSI1 (eventType, timestamp) + GSI2 time index; control GSI1"
  }

  assert {
    condition     = length(aws_lambda_function.this) == 6 && alltrue([for k, f in aws_lambda_function.this : f.runtime == "python3.12" && f.architectures == tolist(["arm64"]) && f.handler == "lambdas.${k}.handler" && f.function_name == "test-interlock-${replace(k, "_", "-")}"])
    error_message = "six python3.12 arm64 functions, handler lambdas.<name>.handler"
  }
  assert {
    condition     = [for k in sort(keys(aws_lambda_function.this)) : aws_lambda_function.this[k].reserved_concurrent_executions] == [3, 5, 10, 5, 10, 2]
    error_message = "reserved concurrency defaults (alert_dispatcher, event_sink, orchestrator, sla_monitor, stream_router, watchdog)"
  }
  assert {
    condition     = alltrue([for k, f in aws_lambda_function.this : aws_cloudwatch_log_group.lambda[k].name == "/aws/lambda/${f.function_name}" && aws_cloudwatch_log_group.lambda[k].retention_in_days == 30])
    error_message = "a log group per function"
  }

  # env vars: exactly the contract file, with the values the module promises
  assert {
    condition = alltrue([for k, f in aws_lambda_function.this :
      toset(keys(f.environment[0].variables)) == toset(jsondecode(file("lambda_env.json"))[k].required)
    ])
    error_message = "each function's environment = lambda_env.json required set (no Slack token given)"
  }
  assert {
    condition     = aws_lambda_function.this["sla_monitor"].environment[0].variables.SLA_MONITOR_ARN == "arn:aws:lambda:eu-west-1:123456789012:function:test-interlock-sla-monitor" && aws_lambda_function.this["watchdog"].environment[0].variables.SCHEDULER_GROUP_NAME == "test-interlock-sla" && aws_lambda_function.this["watchdog"].environment[0].variables.SCHEDULER_ROLE_ARN == "arn:aws:iam::123456789012:role/test-interlock-scheduler-sla"
    error_message = "scheduler env"
  }
  assert {
    condition     = aws_lambda_function.this["stream_router"].environment[0].variables.STATE_MACHINE_ARN == "arn:aws:states:eu-west-1:123456789012:stateMachine:test-interlock-pipeline" && aws_lambda_function.this["stream_router"].environment[0].variables.SFN_TIMEOUT_SECONDS == "14400" && aws_lambda_function.this["orchestrator"].environment[0].variables.CONTROL_TABLE == "test-interlock-control" && aws_lambda_function.this["event_sink"].environment[0].variables.EVENTS_TTL_DAYS == "90" && aws_lambda_function.this["event_sink"].environment[0].variables.ENVIRONMENT == "test"
    error_message = "table, state machine and TTL env"
  }

  # event source mappings
  assert {
    condition     = alltrue([for s in ["control", "joblog"] : aws_lambda_event_source_mapping.stream[s].batch_size == 10 && aws_lambda_event_source_mapping.stream[s].bisect_batch_on_function_error && aws_lambda_event_source_mapping.stream[s].maximum_retry_attempts == 3 && aws_lambda_event_source_mapping.stream[s].starting_position == "LATEST" && aws_lambda_event_source_mapping.stream[s].function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.stream[s].destination_config[0].on_failure[0].destination_arn == aws_sqs_queue.stream_dlq[s].arn && aws_lambda_event_source_mapping.stream[s].event_source_arn == aws_dynamodb_table.this[s].stream_arn])
    error_message = "stream ESMs: batch 10, bisect, 3 retries, ReportBatchItemFailures, on-failure DLQ"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.alerts.event_source_arn == aws_sqs_queue.alerts.arn && aws_lambda_event_source_mapping.alerts.function_response_types == toset(["ReportBatchItemFailures"]) && jsondecode(aws_sqs_queue.alerts.redrive_policy).maxReceiveCount == 3
    error_message = "alert queue → dispatcher, redrive after 3"
  }
  assert {
    condition     = aws_sqs_queue.alerts.sqs_managed_sse_enabled && aws_sqs_queue.alerts.kms_master_key_id == null
    error_message = "without a CMK the queues use SQS-managed SSE (EventBridge cannot use alias/aws/sqs)"
  }

  # the 13 alarms
  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "stream-router-errors", "orchestrator-errors", "sla-monitor-errors", "watchdog-errors", "event-sink-errors", "alert-dispatcher-errors",
      "sfn-failures", "sfn-timeouts", "dlq-sr-control-depth", "dlq-sr-joblog-depth", "dlq-alert-depth", "stream-control-iterator-age", "stream-joblog-iterator-age",
    ]) && length(aws_cloudwatch_metric_alarm.this) == 13
    error_message = "the 13 alarms"
  }
  assert {
    condition     = alltrue([for k, a in aws_cloudwatch_metric_alarm.this : a.alarm_name == "test-interlock-${k}" && a.treat_missing_data == "notBreaching" && a.period == 300 && length(a.alarm_actions) == 0])
    error_message = "alarm names, missing data, period; no actions without a topic"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["stream-control-iterator-age"].threshold == 300000 && aws_cloudwatch_metric_alarm.this["stream-control-iterator-age"].dimensions.EventSourceMapping == aws_lambda_event_source_mapping.stream["control"].uuid && aws_cloudwatch_metric_alarm.this["dlq-alert-depth"].dimensions.QueueName == "test-interlock-alert-dlq"
    error_message = "iterator age and DLQ depth alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["dlq-sr-control-depth"].evaluation_periods == 3 && aws_cloudwatch_metric_alarm.this["dlq-sr-joblog-depth"].evaluation_periods == 3 && aws_cloudwatch_metric_alarm.this["dlq-alert-depth"].evaluation_periods == 1 && aws_cloudwatch_metric_alarm.this["watchdog-errors"].evaluation_periods == 1
    error_message = "a stream DLQ alarms after 15 minutes (the watchdog replays a message within 5); the alert DLQ and the rest at once"
  }

  # IAM statements (policies are jsonencode'd, so they can be read here)
  assert {
    condition     = jsondecode(aws_iam_role_policy.lambda["event_sink"].policy).Statement == [{ Sid = "StoreEvents", Effect = "Allow", Action = ["dynamodb:PutItem"], Resource = ["arn:aws:dynamodb:eu-west-1:123456789012:table/test-interlock-events"] }]
    error_message = "event-sink may only put items in the events table"
  }
  assert {
    condition = alltrue([for k, p in aws_iam_role_policy.lambda :
      sort(distinct(flatten([for s in jsondecode(p.policy).Statement : s.Action]))) == sort(concat(jsondecode(file("tests/iam_actions.json"))[k].code, jsondecode(file("tests/iam_actions.json"))[k].event_source))
    ])
    error_message = "each role grants exactly the actions in tests/iam_actions.json (what the recorder proves against the code)"
  }
  assert {
    condition     = contains([for s in jsondecode(aws_iam_role_policy.lambda["stream_router"].policy).Statement : s.Sid if s.Action == ["states:StartExecution"] && s.Resource == ["arn:aws:states:eu-west-1:123456789012:stateMachine:test-interlock-pipeline"]], "StartRuns")
    error_message = "stream-router starts executions of this state machine only"
  }
  assert {
    condition     = alltrue([for k, p in aws_iam_role_policy.lambda : alltrue([for s in jsondecode(p.policy).Statement : !contains(s.Resource, "*") && alltrue([for a in s.Action : !endswith(a, "*")])])])
    error_message = "no wildcard resource or action in a function's policy"
  }
  assert {
    condition     = !contains(flatten([for s in jsondecode(aws_iam_role_policy.lambda["orchestrator"].policy).Statement : s.Action]), "states:StartExecution") && !contains(flatten([for s in jsondecode(aws_iam_role_policy.lambda["event_sink"].policy).Statement : s.Action]), "events:PutEvents")
    error_message = "orchestrator starts no executions; event-sink publishes nothing"
  }
  assert {
    condition     = length(aws_iam_role_policy.orchestrator_trigger) == 0
    error_message = "no trigger grants unless enabled"
  }
  assert {
    condition     = contains(flatten([for s in jsondecode(output.operator_policy_json).Statement : s.Action]), "dynamodb:PutItem") && !contains(flatten([for s in jsondecode(output.read_only_policy_json).Statement : s.Action]), "dynamodb:PutItem")
    error_message = "operator policy writes, read-only policy does not"
  }

  # bus, rules, state machine, scheduler
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.alerts.event_pattern)["detail-type"] == jsondecode(file("alert_types.json")).alert_types && jsondecode(aws_cloudwatch_event_rule.all_events.event_pattern) == { source = ["interlock"] }
    error_message = "alert rule routes exactly the catalogue's alerting types; all-events rule matches source interlock"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.watchdog.schedule_expression == "rate(5 minutes)" && aws_cloudwatch_event_target.cw_alarm_alert.arn == aws_sqs_queue.alerts.arn && jsondecode(aws_cloudwatch_event_rule.cw_alarm_alert.event_pattern).detail.state.value == ["ALARM"]
    error_message = "watchdog schedule, alarm rule to SQS on ALARM"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Evaluate.Resource == aws_lambda_function.this["orchestrator"].arn && aws_sfn_state_machine.this.name == "test-interlock-pipeline" && aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "state machine templated with the orchestrator ARN"
  }
  assert {
    condition     = aws_scheduler_schedule_group.sla.name == "test-interlock-sla" && jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Resource == ["arn:aws:lambda:eu-west-1:123456789012:function:test-interlock-sla-monitor"]
    error_message = "scheduler group and role"
  }

  # config loader: one row per pipeline.id, plus calendars
  assert {
    condition     = toset(keys(aws_dynamodb_table_item.config)) == toset(["airflow-marketing", "bronze-cdr-hourly", "databricks-churn", "dryrun-weather", "emr-serverless-features", "emr-sessions", "finance-close", "gold-revenue", "ml-training", "silver-cdr-day", "silver-orders"])
    error_message = "one CONFIG row per example pipeline, keyed by pipeline.id"
  }
  assert {
    condition     = jsondecode(aws_dynamodb_table_item.config["gold-revenue"].item).PK.S == "PIPELINE#gold-revenue" && jsondecode(aws_dynamodb_table_item.config["gold-revenue"].item).SK.S == "CONFIG" && jsondecode(aws_dynamodb_table_item.config["gold-revenue"].item).GSI1PK.S == "CONFIGS" && jsondecode(jsondecode(aws_dynamodb_table_item.config["gold-revenue"].item).config.S).pipeline.id == "gold-revenue"
    error_message = "CONFIG row shape"
  }
  assert {
    condition     = keys(aws_dynamodb_table_item.calendar) == ["us-federal"] && jsondecode(aws_dynamodb_table_item.calendar["us-federal"].item).PK.S == "CALENDAR#us-federal"
    error_message = "calendar rows"
  }
}

run "customer_key_and_alarm_topic" {
  command = apply
  variables {
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    sns_alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall"
    lambda_concurrency  = { stream_router = -1, orchestrator = -1, sla_monitor = -1, watchdog = -1, event_sink = -1, alert_dispatcher = -1 }
    slack_secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack"
    slack_channel_id    = "C123"
    pipelines_path      = ""
  }
  assert {
    condition     = alltrue([for k, p in aws_iam_role_policy.lambda : contains([for s in jsondecode(p.policy).Statement : s.Sid], "UseCustomerKey")])
    error_message = "with a CMK every function may use it (the original granted two of six)"
  }
  assert {
    condition     = aws_sqs_queue.alerts.kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/abc" && aws_dynamodb_table.this["events"].server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/abc"
    error_message = "queues and tables use the CMK"
  }
  assert {
    condition     = alltrue([for a in values(aws_cloudwatch_metric_alarm.this) : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"])])
    error_message = "alarm and OK actions go to the topic"
  }
  assert {
    condition     = contains([for s in jsondecode(aws_iam_role_policy.lambda["alert_dispatcher"].policy).Statement : s.Sid], "ReadSlackToken") && !contains(keys(aws_lambda_function.this["alert_dispatcher"].environment[0].variables), "SLACK_BOT_TOKEN")
    error_message = "secret ARN: GetSecretValue granted, no token in the environment"
  }
  assert {
    condition     = length(aws_dynamodb_table_item.config) == 0 && length(terraform_data.config_validation) == 0
    error_message = "pipelines_path \"\" loads nothing"
  }
}

run "glue_trigger_scoped" {
  command = apply
  variables {
    enable_glue_trigger = true
    glue_job_arns       = ["arn:aws:glue:eu-west-1:123456789012:job/load-orders"]
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.orchestrator_trigger["glue"].policy).Statement[0].Resource == ["arn:aws:glue:eu-west-1:123456789012:job/load-orders"]
    error_message = "Glue grant scoped to the listed jobs"
  }
}

run "trigger_without_arns_refused" {
  command = plan
  variables {
    enable_lambda_trigger = true
  }
  expect_failures = [aws_iam_role_policy.orchestrator_trigger]
}

run "slack_without_channel_refused" {
  command = plan
  variables {
    slack_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack"
  }
  expect_failures = [aws_lambda_function.this]
}

run "plaintext_token_warns_and_is_set" {
  command = apply
  variables {
    slack_bot_token  = "xoxb-test"
    slack_channel_id = "C123"
  }
  expect_failures = [check.slack_token_deprecation]
  assert {
    condition     = aws_lambda_function.this["alert_dispatcher"].environment[0].variables.SLACK_BOT_TOKEN == "xoxb-test"
    error_message = "the deprecated token is still passed when no secret is given"
  }
}

run "config_refused_by_validate" {
  command = plan
  variables {
    pipelines_path = "tests/fixtures/refused"
  }
  expect_failures = [terraform_data.config_validation]
}

run "config_changed_after_validation" {
  command = plan
  variables {
    pipelines_path = "tests/fixtures/stale"
  }
  expect_failures = [terraform_data.config_validation]
}

run "config_never_validated" {
  command = plan
  variables {
    pipelines_path = "tests/fixtures/unstamped"
  }
  expect_failures = [terraform_data.config_validation]
}

run "pipeline_run_longer_than_sfn_timeout" {
  command = plan
  variables {
    sfn_timeout_seconds = 7000 # the examples' longest run is 11550 s (finance-close, emr-sessions)
  }
  expect_failures = [terraform_data.config_validation]
}

run "sfn_timeout_fits_the_longest_run" {
  command = plan
  variables {
    sfn_timeout_seconds  = 11550
    trigger_max_attempts = 4
  }
  assert {
    condition     = length(local.too_long) == 0 && local.trigger_backoff_seconds == 450
    error_message = "11550 s fits 2h evaluation + 1h poll + 5m margin + 450 s of trigger backoff"
  }
}
