# Alert queue (EventBridge → alert-dispatcher) and the three DLQs.
# Encryption: a customer key when given; otherwise SQS-managed SSE. Not alias/aws/sqs (the original's
# default): EventBridge cannot use the AWS-managed SQS key, whose key policy cannot grant it.

locals {
  queue_kms = local.use_cmk ? { kms_master_key_id = var.kms_key_arn, sqs_managed = null } : { kms_master_key_id = null, sqs_managed = true }
}

resource "aws_sqs_queue" "stream_dlq" {
  for_each                          = toset(["control", "joblog"])
  name                              = "${local.prefix}-sr-${each.key}-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.queue_kms.kms_master_key_id
  kms_data_key_reuse_period_seconds = local.use_cmk ? 300 : null
  sqs_managed_sse_enabled           = local.queue_kms.sqs_managed
  tags                              = var.tags
}

resource "aws_sqs_queue" "alert_dlq" {
  name                              = "${local.prefix}-alert-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.queue_kms.kms_master_key_id
  kms_data_key_reuse_period_seconds = local.use_cmk ? 300 : null
  sqs_managed_sse_enabled           = local.queue_kms.sqs_managed
  tags                              = var.tags
}

resource "aws_sqs_queue" "alerts" {
  name                              = "${local.prefix}-alerts"
  message_retention_seconds         = 86400
  visibility_timeout_seconds        = 60
  kms_master_key_id                 = local.queue_kms.kms_master_key_id
  kms_data_key_reuse_period_seconds = local.use_cmk ? 300 : null
  sqs_managed_sse_enabled           = local.queue_kms.sqs_managed
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.alert_dlq.arn
    maxReceiveCount     = 3
  })
  tags = var.tags
}

resource "aws_sqs_queue_policy" "alerts" {
  queue_url = aws_sqs_queue.alerts.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeAlertRules"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.alerts.arn
      Condition = { ArnEquals = { "aws:SourceArn" = [aws_cloudwatch_event_rule.alerts.arn, aws_cloudwatch_event_rule.cw_alarm_alert.arn] } }
    }]
  })
}

resource "aws_lambda_event_source_mapping" "alerts" {
  function_name           = aws_lambda_function.this["alert_dispatcher"].arn
  event_source_arn        = aws_sqs_queue.alerts.arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]
  depends_on              = [aws_iam_role_policy.lambda]
}
