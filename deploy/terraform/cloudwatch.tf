# 13 alarms: the original's 6 Lambda error alarms, SFN failures, 3 DLQ depths, 2 stream iterator ages, plus
# SFN timeouts (the original had none: a run cut off by TimeoutSeconds was only noticed by the watchdog
# after the lock TTL).

locals {
  alarm_actions = var.sns_alarm_topic_arn != "" ? [var.sns_alarm_topic_arn] : []

  alarms = merge(
    { for k, f in local.functions : "${replace(k, "_", "-")}-errors" => {
      namespace  = "AWS/Lambda", metric = "Errors", statistic = "Sum", threshold = 1, periods = 1
      dimensions = { FunctionName = f.name }
      desc       = "${f.name} returned errors"
    } },
    {
      "sfn-failures" = {
        namespace  = "AWS/States", metric = "ExecutionsFailed", statistic = "Sum", threshold = 1, periods = 1
        dimensions = { StateMachineArn = aws_sfn_state_machine.this.arn }
        desc       = "Pipeline executions failed (infrastructure failure, not a job failure)"
      }
      "sfn-timeouts" = {
        namespace  = "AWS/States", metric = "ExecutionsTimedOut", statistic = "Sum", threshold = 1, periods = 1
        dimensions = { StateMachineArn = aws_sfn_state_machine.this.arn }
        desc       = "Pipeline executions hit the state machine TimeoutSeconds (sfn_timeout_seconds)"
      }
    },
    { for q, queue in {
      "sr-control" = aws_sqs_queue.stream_dlq["control"].name,
      "sr-joblog"  = aws_sqs_queue.stream_dlq["joblog"].name,
      "alert"      = aws_sqs_queue.alert_dlq.name,
      } : "dlq-${q}-depth" => {
      namespace = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", statistic = "Sum", threshold = 1
      # a stream DLQ message is replayed by the next watchdog pass (5 min) and deleted: only one still
      # there after three periods (15 min) is one the watchdog could not replay
      periods    = q == "alert" ? 1 : 3
      dimensions = { QueueName = queue }
      desc = (q == "alert" ? "Messages waiting in ${queue}: alerts that were not delivered"
      : "Messages waiting in ${queue} for 15 minutes: stream batches the watchdog could not replay")
    } },
    { for s in ["control", "joblog"] : "stream-${s}-iterator-age" => {
      namespace = "AWS/Lambda", metric = "IteratorAge", statistic = "Maximum", threshold = 300000, periods = 1
      dimensions = {
        FunctionName       = local.functions.stream_router.name
        EventSourceMapping = aws_lambda_event_source_mapping.stream[s].uuid
      }
      desc = "The stream router is more than 5 minutes behind the ${s} stream"
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${local.prefix}-${each.key}"
  alarm_description   = each.value.desc
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = each.value.dimensions
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
