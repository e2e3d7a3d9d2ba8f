# The run lifecycle state machine: deploy/statemachine.asl.json (the same file interlock.local runs),
# templated. tests/deploy checks that every ${...} placeholder in the file is supplied here.

locals {
  asl_path = "${path.module}/../statemachine.asl.json"
  asl_vars = {
    OrchestratorFunctionArn = aws_lambda_function.this["orchestrator"].arn
    SlaMonitorFunctionArn   = aws_lambda_function.this["sla_monitor"].arn
    SfnTimeoutSeconds       = var.sfn_timeout_seconds
    TriggerMaxAttempts      = var.trigger_max_attempts
  }
}

resource "aws_cloudwatch_log_group" "sfn" {
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (default 30 days), like the function logs
  name              = "/aws/vendedlogs/states/${local.sfn_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_cmk ? var.kms_key_arn : null
  tags              = var.tags
}

resource "aws_iam_role" "sfn" {
  name = "${local.prefix}-sfn"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "sfn" {
  name = "${local.prefix}-sfn-access"
  role = aws_iam_role.sfn.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      { Sid = "InvokeLifecycle", Effect = "Allow", Action = ["lambda:InvokeFunction"], Resource = [local.function_arns.orchestrator, local.function_arns.sla_monitor] },
      # Step Functions log delivery: these actions do not support resource-level permissions (AWS docs)
      {
        Sid    = "LogDelivery"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource = ["*"]
      },
      ], var.tracing ? [
      { Sid = "Tracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], Resource = ["*"] },
    ] : [])
  })
}

resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_285:logging is on; its level is var.sfn_log_level (default ERROR: failures are logged, every transition of hour-long wait loops is not); the run history lives in the tables and events
  #checkov:skip=CKV_AWS_284:X-Ray is opt-in (var.tracing), off by default for cost
  name       = local.sfn_name
  role_arn   = aws_iam_role.sfn.arn
  type       = "STANDARD"
  definition = templatefile(local.asl_path, local.asl_vars)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.sfn.arn}:*"
    include_execution_data = false
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = var.tracing
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = can(jsondecode(templatefile(local.asl_path, local.asl_vars)))
      error_message = "deploy/statemachine.asl.json is not valid JSON once templated."
    }
  }
}
