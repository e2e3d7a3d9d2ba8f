# The Interlock bus, its rules (all → event-sink; alerting types → SQS), the watchdog schedule and the
# CloudWatch-alarm rules that turn alarm state changes into INFRA_ALARM events.

resource "aws_cloudwatch_event_bus" "this" {
  name = "${local.prefix}-events"
  tags = var.tags
}

resource "aws_cloudwatch_event_bus_policy" "this" {
  event_bus_name = aws_cloudwatch_event_bus.this.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "InterlockFunctionsOnly"
      Effect    = "Allow"
      Principal = { AWS = [for k in keys(local.functions) : aws_iam_role.lambda[k].arn] }
      Action    = "events:PutEvents"
      Resource  = aws_cloudwatch_event_bus.this.arn
    }]
  })
}

# every Interlock event → event-sink (stores the whole detail)
resource "aws_cloudwatch_event_rule" "all_events" {
  name           = "${local.prefix}-all-events"
  description    = "Every Interlock event to the event sink"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode({ source = ["interlock"] })
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "all_events" {
  rule           = aws_cloudwatch_event_rule.all_events.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "event-sink"
  arn            = aws_lambda_function.this["event_sink"].arn
}

# the alerting types of the catalogue (alert_types.json, generated) → SQS → alert-dispatcher → Slack
resource "aws_cloudwatch_event_rule" "alerts" {
  name           = "${local.prefix}-alert-events"
  description    = "Alerting Interlock events to the alert queue"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode({ source = ["interlock"], "detail-type" = local.alert_types })
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "alerts" {
  rule           = aws_cloudwatch_event_rule.alerts.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "alert-queue"
  arn            = aws_sqs_queue.alerts.arn
}

# scheduled rules live on the default bus
resource "aws_cloudwatch_event_rule" "watchdog" {
  name                = "${local.prefix}-watchdog"
  description         = "Run the Interlock watchdog"
  schedule_expression = var.watchdog_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "watchdog" {
  rule      = aws_cloudwatch_event_rule.watchdog.name
  target_id = "watchdog"
  arn       = aws_lambda_function.this["watchdog"].arn
}

# ------------------------------------------------------------------ CloudWatch alarms → INFRA_ALARM

locals {
  alarm_pattern = {
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    detail        = { alarmName = [{ prefix = "${local.prefix}-" }] }
  }
  # The interlock envelope (DESIGN §4); every placeholder quoted (an unquoted one is not valid JSON).
  alarm_input_paths = {
    alarm  = "$.detail.alarmName"
    state  = "$.detail.state.value"
    reason = "$.detail.state.reason"
    time   = "$.time"
  }
  alarm_input_template = <<-EOT
    {"source": "interlock", "detail-type": "INFRA_ALARM", "detail": {"pipelineId": "INFRASTRUCTURE", "message": "<alarm>: <state> - <reason>", "timestamp": "<time>", "detail": {"alarmName": "<alarm>", "state": "<state>"}}}
  EOT
}

resource "aws_cloudwatch_event_rule" "cw_alarm_log" {
  name          = "${local.prefix}-cw-alarm-log"
  description   = "Every state change of an Interlock alarm to the event sink"
  event_pattern = jsonencode(local.alarm_pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "cw_alarm_log" {
  rule      = aws_cloudwatch_event_rule.cw_alarm_log.name
  target_id = "event-sink"
  arn       = aws_lambda_function.this["event_sink"].arn
  input_transformer {
    input_paths    = local.alarm_input_paths
    input_template = local.alarm_input_template
  }
}

resource "aws_cloudwatch_event_rule" "cw_alarm_alert" {
  name        = "${local.prefix}-cw-alarm-alert"
  description = "Interlock alarms entering ALARM to the alert queue"
  event_pattern = jsonencode(merge(local.alarm_pattern, {
    detail = merge(local.alarm_pattern.detail, { state = { value = ["ALARM"] } })
  }))
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "cw_alarm_alert" {
  rule      = aws_cloudwatch_event_rule.cw_alarm_alert.name
  target_id = "alert-queue"
  arn       = aws_sqs_queue.alerts.arn
  input_transformer {
    input_paths    = local.alarm_input_paths
    input_template = local.alarm_input_template
  }
}

# ------------------------------------------------------------------ who may invoke the functions

resource "aws_lambda_permission" "events" {
  for_each = {
    watchdog     = { function = "watchdog", rule = aws_cloudwatch_event_rule.watchdog.arn }
    all_events   = { function = "event_sink", rule = aws_cloudwatch_event_rule.all_events.arn }
    cw_alarm_log = { function = "event_sink", rule = aws_cloudwatch_event_rule.cw_alarm_log.arn }
  }
  statement_id  = "AllowEventBridge-${replace(each.key, "_", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  principal     = "events.amazonaws.com"
  source_arn    = each.value.rule
}
