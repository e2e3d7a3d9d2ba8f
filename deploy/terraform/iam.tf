# One least-privilege role per function, policies written with jsonencode so terraform test can read them.
# Grants follow what each function does (DESIGN §5, reference §1.6), scoped to this module's resources.

locals {
  ddb_read = ["dynamodb:GetItem", "dynamodb:Query"]
  # no ConditionCheckItem: the DynamoDB store makes no transactions (tests/aws/test_iam_exact.py)
  ddb_write = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]

  # a table and its indexes
  table_and_indexes = { for t, arn in local.table_arns : t => [arn, "${arn}/index/*"] }
  all_tables        = flatten(values(local.table_and_indexes))

  bus_arn        = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.prefix}-events"
  schedule_group = "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${local.scheduler_group}/*"
  executions     = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.sfn_name}:*"

  # SLA and cron timers: set (create, or update a changed time), read, cancel (interlock.aws.timers)
  st_timers = { Sid = "ManageTimers", Effect = "Allow", Action = ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"], Resource = [local.schedule_group] }

  st_put_events = { Sid = "PublishEvents", Effect = "Allow", Action = ["events:PutEvents"], Resource = [local.bus_arn] }
  st_pass_scheduler_role = {
    Sid       = "PassSchedulerRole"
    Effect    = "Allow"
    Action    = ["iam:PassRole"]
    Resource  = [local.scheduler_role_arn]
    Condition = { StringEquals = { "iam:PassedToService" = "scheduler.amazonaws.com" } }
  }
  st_kms = local.use_cmk ? [{
    Sid      = "UseCustomerKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    Resource = [var.kms_key_arn]
  }] : []

  lambda_statements = {
    stream_router = concat([
      { Sid = "ReadWriteTables", Effect = "Allow", Action = concat(local.ddb_read, local.ddb_write), Resource = local.all_tables },
      {
        Sid      = "ReadStreams"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
        Resource = ["${local.table_arns.control}/stream/*", "${local.table_arns.joblog}/stream/*"]
      },
      { Sid = "StartRuns", Effect = "Allow", Action = ["states:StartExecution"], Resource = [local.sfn_arn] },
      local.st_put_events,
      local.st_timers,
      local.st_pass_scheduler_role,
      # sent by the Lambda service (the mapping's on-failure destination) with this role, not by the code
      { Sid = "StreamFailuresToDLQ", Effect = "Allow", Action = ["sqs:SendMessage"], Resource = [aws_sqs_queue.stream_dlq["control"].arn, aws_sqs_queue.stream_dlq["joblog"].arn] },
    ], local.st_kms)

    orchestrator = concat([
      { Sid = "ReadWriteTables", Effect = "Allow", Action = concat(local.ddb_read, local.ddb_write), Resource = local.all_tables },
      local.st_put_events,
    ], local.st_kms)

    sla_monitor = concat([
      { Sid = "ReadTables", Effect = "Allow", Action = local.ddb_read, Resource = local.all_tables },
      # claims (once-per-period alerts), a cron fire's run row and its first-arrival marks; a claim given
      # back or a run released when a later action fails (DeleteItem). No UpdateItem: a run's status is
      # set by run tasks, reruns and the watchdog, never by an SLA alert or a cron fire
      { Sid = "WriteControl", Effect = "Allow", Action = ["dynamodb:PutItem", "dynamodb:DeleteItem"], Resource = [local.table_arns.control] },
      # a cron fire starts its run
      { Sid = "StartRuns", Effect = "Allow", Action = ["states:StartExecution"], Resource = [local.sfn_arn] },
      local.st_put_events,
      local.st_timers,
      local.st_pass_scheduler_role,
    ], local.st_kms)

    watchdog = concat([
      { Sid = "ReadTables", Effect = "Allow", Action = local.ddb_read, Resource = local.all_tables },
      # control rows of its own checks; job-log and rerun rows when it replays a stream record (below)
      { Sid = "WriteTables", Effect = "Allow", Action = local.ddb_write, Resource = [local.table_arns.control, local.table_arns.joblog, local.table_arns.rerun] },
      # the stream-router's on-failure messages name a batch (metadata only): the watchdog reads the
      # batch's records from the stream and handles them as the stream-router would (stream_replay)
      { Sid = "ReadStreamDLQs", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource = [aws_sqs_queue.stream_dlq["control"].arn, aws_sqs_queue.stream_dlq["joblog"].arn] },
      { Sid = "ReplayStreamRecords", Effect = "Allow", Action = ["dynamodb:GetShardIterator", "dynamodb:GetRecords"], Resource = ["${local.table_arns.control}/stream/*", "${local.table_arns.joblog}/stream/*"] },
      { Sid = "RestartRuns", Effect = "Allow", Action = ["states:StartExecution"], Resource = [local.sfn_arn] },
      # a stale run's execution is described and stopped
      { Sid = "StopStaleRuns", Effect = "Allow", Action = ["states:DescribeExecution", "states:StopExecution"], Resource = [local.executions] },
      local.st_put_events,
      local.st_timers,
      local.st_pass_scheduler_role,
    ], local.st_kms)

    event_sink = concat([
      { Sid = "StoreEvents", Effect = "Allow", Action = ["dynamodb:PutItem"], Resource = [local.table_arns.events] },
    ], local.st_kms)

    alert_dispatcher = concat([
      # Slack threads and the outbox are rows of the events table
      { Sid = "SlackThreads", Effect = "Allow", Action = concat(local.ddb_read, ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]), Resource = local.table_and_indexes.events },
      { Sid = "ConsumeAlerts", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource = [aws_sqs_queue.alerts.arn] },
      ], var.slack_secret_arn != "" ? [
      { Sid = "ReadSlackToken", Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = [var.slack_secret_arn] },
    ] : [], local.st_kms)
  }

  lambda_policies = {
    for k, st in local.lambda_statements : k => jsonencode({ Version = "2012-10-17", Statement = st })
  }

  lambda_trust = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role" "lambda" {
  for_each           = local.functions
  name               = each.value.name
  assume_role_policy = local.lambda_trust
  tags               = var.tags
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions
  name     = "${each.value.name}-access"
  role     = aws_iam_role.lambda[each.key].id
  policy   = local.lambda_policies[each.key]
}

# Logs: written with jsonencode rather than the AWS managed AWSLambdaBasicExecutionRole, so the grant is
# scoped to the function's own log group (the managed policy allows every log group in the account).
resource "aws_iam_role_policy" "lambda_logs" {
  for_each = local.functions
  name     = "${each.value.name}-logs"
  role     = aws_iam_role.lambda[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
    }]
  })
}

resource "aws_iam_role_policy" "lambda_tracing" {
  for_each = var.tracing ? local.functions : {}
  name     = "${each.value.name}-xray"
  role     = aws_iam_role.lambda[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Tracing", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = ["*"] }]
  })
}

# -------------------------------------------------------------------- opt-in trigger permissions

locals {
  trigger_policies = {
    glue = {
      enabled = var.enable_glue_trigger, arns = var.glue_job_arns, var = "glue_job_arns"
      statements = [
        { Sid = "GlueJobs", Effect = "Allow", Action = ["glue:StartJobRun", "glue:GetJobRun"], Resource = var.glue_job_arns },
        { Sid = "GlueLogs", Effect = "Allow", Action = ["logs:FilterLogEvents"], Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"] },
      ]
    }
    emr = {
      enabled = var.enable_emr_trigger, arns = var.emr_cluster_arns, var = "emr_cluster_arns"
      statements = [
        { Sid = "EmrSteps", Effect = "Allow", Action = ["elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:DescribeStep"], Resource = var.emr_cluster_arns },
      ]
    }
    emr_serverless = {
      enabled = var.enable_emr_serverless_trigger, arns = var.emr_serverless_app_arns, var = "emr_serverless_app_arns"
      statements = [
        { Sid = "EmrServerlessRuns", Effect = "Allow", Action = ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun"], Resource = flatten([for a in var.emr_serverless_app_arns : [a, "${a}/jobruns/*"]]) },
      ]
    }
    sfn = {
      enabled = var.enable_sfn_trigger, arns = var.sfn_trigger_arns, var = "sfn_trigger_arns"
      statements = [
        { Sid = "StartStateMachines", Effect = "Allow", Action = ["states:StartExecution"], Resource = var.sfn_trigger_arns },
        {
          Sid      = "PollExecutions"
          Effect   = "Allow"
          Action   = ["states:DescribeExecution"]
          Resource = [for a in var.sfn_trigger_arns : "${replace(a, ":stateMachine:", ":execution:")}:*"]
        },
      ]
    }
    lambda = {
      enabled = var.enable_lambda_trigger, arns = var.lambda_trigger_arns, var = "lambda_trigger_arns"
      statements = [
        { Sid = "InvokeFunctions", Effect = "Allow", Action = ["lambda:InvokeFunction"], Resource = var.lambda_trigger_arns },
      ]
    }
  }
}

resource "aws_iam_role_policy" "orchestrator_trigger" {
  for_each = { for k, p in local.trigger_policies : k => p if p.enabled }
  name     = "${local.functions.orchestrator.name}-trigger-${replace(each.key, "_", "-")}"
  role     = aws_iam_role.lambda["orchestrator"].id
  policy   = jsonencode({ Version = "2012-10-17", Statement = each.value.statements })

  lifecycle {
    precondition {
      condition     = length(each.value.arns) > 0
      error_message = "enable_${each.key}_trigger is true but ${each.value.var} is empty: list the ARNs the orchestrator may call (no wildcard grant is made)."
    }
  }
}
