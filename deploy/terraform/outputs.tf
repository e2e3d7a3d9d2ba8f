# The original's 12 outputs first (same names), then ours.

output "control_table_name" { value = aws_dynamodb_table.this["control"].name }
output "control_table_arn" { value = aws_dynamodb_table.this["control"].arn }
output "joblog_table_name" { value = aws_dynamodb_table.this["joblog"].name }
output "rerun_table_name" { value = aws_dynamodb_table.this["rerun"].name }
output "events_table_name" { value = aws_dynamodb_table.this["events"].name }
output "events_table_arn" { value = aws_dynamodb_table.this["events"].arn }
output "event_bus_name" { value = aws_cloudwatch_event_bus.this.name }
output "event_bus_arn" { value = aws_cloudwatch_event_bus.this.arn }
output "sfn_arn" { value = aws_sfn_state_machine.this.arn }
output "sfn_name" { value = aws_sfn_state_machine.this.name }
output "scheduler_group_name" { value = aws_scheduler_schedule_group.sla.name }
output "sla_monitor_arn" { value = aws_lambda_function.this["sla_monitor"].arn }

# ------------------------------------------------------------------------------------------- new

output "joblog_table_arn" { value = aws_dynamodb_table.this["joblog"].arn }
output "rerun_table_arn" { value = aws_dynamodb_table.this["rerun"].arn }

output "store_url" {
  description = "What to pass to interlock / interlock-tui --store."
  value       = "dynamodb://${var.environment}?region=${local.region}"
}

output "lambda_function_names" {
  description = "Function name per handler (stream_router, orchestrator, sla_monitor, watchdog, event_sink, alert_dispatcher)."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "lambda_function_arns" { value = { for k, f in aws_lambda_function.this : k => f.arn } }

output "lambda_role_arns" {
  description = "Execution role ARN per handler (attach extra policies, e.g. for your own trigger targets)."
  value       = { for k, r in aws_iam_role.lambda : k => r.arn }
}

output "lambda_role_names" { value = { for k, r in aws_iam_role.lambda : k => r.name } }

output "alert_queue_url" { value = aws_sqs_queue.alerts.url }
output "alert_dlq_url" { value = aws_sqs_queue.alert_dlq.url }
output "stream_dlq_urls" {
  value       = { for k, q in aws_sqs_queue.stream_dlq : k => q.url }
  description = "Stream-router on-failure queues (control, joblog): batch metadata the watchdog replays from the stream each pass (not to be redriven)."
}

output "scheduler_role_arn" { value = aws_iam_role.scheduler.arn }

output "read_only_policy_json" {
  description = "IAM policy for people who watch (interlock-tui, explain): read tables, streams, executions."
  value       = local.read_only_policy
}

output "operator_policy_json" {
  description = "IAM policy for operators: read_only plus rerun requests, SLA acks and dry-run overrides."
  value       = local.operator_policy
}

output "config_pipeline_ids" {
  description = "Pipelines loaded as CONFIG rows (by pipeline.id)."
  value       = sort(keys(aws_dynamodb_table_item.config))
}

output "calendar_names" { value = sort(keys(aws_dynamodb_table_item.calendar)) }
