# SLA timers: one-time EventBridge Scheduler schedules created by the watchdog / sla-monitor at run time
# (never by Terraform) in this group, run as this role, targeting sla-monitor.

resource "aws_scheduler_schedule_group" "sla" {
  name = local.scheduler_group
  tags = var.tags
}

resource "aws_iam_role" "scheduler" {
  name = "${local.prefix}-scheduler-sla"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name = "${local.prefix}-scheduler-sla-invoke"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "FireSlaTimers", Effect = "Allow", Action = ["lambda:InvokeFunction"], Resource = [local.function_arns.sla_monitor] }]
  })
}
