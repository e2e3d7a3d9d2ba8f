# Six python3.12 arm64 functions over one dependency layer (deploy/build_lambdas.py explains the split).

resource "aws_lambda_layer_version" "deps" {
  layer_name               = "${local.prefix}-deps"
  filename                 = "${var.dist_path}/interlock-layer.zip"
  source_code_hash         = filebase64sha256("${var.dist_path}/interlock-layer.zip")
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = ["arm64"]
  description              = "interlock package and the lambda extra's dependencies (make lambdas)"
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (the original's default, 30 days); a deployer who must keep a year sets it
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_cmk ? var.kms_key_arn : null
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_117:no VPC: the functions call only AWS APIs and the Slack/trigger endpoints configured per pipeline; a VPC would need NAT and endpoints the deployer owns
  #checkov:skip=CKV_AWS_116:a function-level DLQ applies to async invokes only; stream and SQS sources have on-failure destinations/redrive (below), and scheduled invokes are retried by the next run
  #checkov:skip=CKV_AWS_272:code signing needs a signing profile the deployer owns; the zips are reproducible and hashed (source_code_hash) instead
  #checkov:skip=CKV_AWS_173:environment holds names and ARNs only (the Slack token goes through Secrets Manager); Lambda encrypts it at rest with an AWS key
  #checkov:skip=CKV_AWS_50:X-Ray is opt-in (var.tracing), off by default for cost
  #checkov:skip=CKV_AWS_115:reserved concurrency is set from var.lambda_concurrency; -1 (unreserved) is the deployer's explicit choice

  function_name    = each.value.name
  description      = "Interlock ${replace(each.key, "_", "-")} (lambdas/${each.key}.py)"
  role             = aws_iam_role.lambda[each.key].arn
  runtime          = "python3.12"
  architectures    = ["arm64"]
  handler          = "lambdas.${each.key}.handler"
  filename         = "${var.dist_path}/${each.key}.zip"
  source_code_hash = filebase64sha256("${var.dist_path}/${each.key}.zip")
  layers           = [aws_lambda_layer_version.deps.arn]
  timeout          = each.value.timeout
  memory_size      = each.value.memory

  reserved_concurrent_executions = var.lambda_concurrency[each.key]

  environment {
    variables = local.lambda_env[each.key]
  }

  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.lambda_logs]

  lifecycle {
    precondition {
      condition = (
        alltrue([for k in local.env_contract[each.key].required : contains(keys(local.lambda_env[each.key]), k)]) &&
        alltrue([for k in keys(local.lambda_env[each.key]) : contains(concat(local.env_contract[each.key].required, local.env_contract[each.key].optional), k)])
      )
      error_message = "The environment of ${each.key} differs from deploy/terraform/lambda_env.json (the contract with lambdas/)."
    }
    precondition {
      condition     = each.key != "alert_dispatcher" || (var.slack_secret_arn == "" && var.slack_bot_token == "") || var.slack_channel_id != ""
      error_message = "slack_channel_id is empty but a Slack token or secret is given: set the channel for alerts."
    }
  }
}

check "slack_token_deprecation" {
  assert {
    condition     = var.slack_bot_token == "" || var.slack_secret_arn != ""
    error_message = "slack_bot_token puts the token in the function's environment in plain text; store it in Secrets Manager and set slack_secret_arn instead."
  }
}

# ------------------------------------------------------------------------ stream event source mappings

resource "aws_lambda_event_source_mapping" "stream" {
  for_each = toset(["control", "joblog"])

  function_name                  = aws_lambda_function.this["stream_router"].arn
  event_source_arn               = aws_dynamodb_table.this[each.key].stream_arn
  starting_position              = "LATEST"
  batch_size                     = 10
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 3
  function_response_types        = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.stream_dlq[each.key].arn
    }
  }

  depends_on = [aws_iam_role_policy.lambda]
}
