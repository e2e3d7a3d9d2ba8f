# IAM policy documents for people at the TUI / CLI / notebooks (attach them to your own roles or groups):
#   read_only  the board, the tail, explain: read the four tables, their indexes and streams, and executions
#   operator   read_only + rerun requests, SLA acks and dry-run overrides (control rows) and the audited
#              event each action records (events table row and/or bus event)

locals {
  operator_read_statements = [
    { Sid = "ReadTables", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"], Resource = local.all_tables },
    {
      Sid      = "TailStreams"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      Resource = ["${local.table_arns.control}/stream/*", "${local.table_arns.joblog}/stream/*"]
    },
    {
      Sid      = "ReadExecutions"
      Effect   = "Allow"
      Action   = ["states:DescribeExecution", "states:GetExecutionHistory", "states:ListExecutions", "states:DescribeStateMachine"]
      Resource = [local.sfn_arn, "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.sfn_name}:*"]
    },
  ]
  operator_write_statements = [
    # rerun requests, acks and dry-run overrides are put; switching dry run back to the config's value
    # deletes the override (ControlStore.clear_override). Nothing updates a row or makes a transaction.
    { Sid = "OperatorRows", Effect = "Allow", Action = ["dynamodb:PutItem", "dynamodb:DeleteItem"], Resource = [local.table_arns.control] },
    { Sid = "AuditEvents", Effect = "Allow", Action = ["dynamodb:PutItem"], Resource = [local.table_arns.events] },
    local.st_put_events,
  ]
  operator_kms = local.use_cmk ? [{ Sid = "UseCustomerKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], Resource = [var.kms_key_arn] }] : []

  read_only_policy = jsonencode({ Version = "2012-10-17", Statement = concat(local.operator_read_statements, local.operator_kms) })
  operator_policy  = jsonencode({ Version = "2012-10-17", Statement = concat(local.operator_read_statements, local.operator_write_statements, local.operator_kms) })
}
