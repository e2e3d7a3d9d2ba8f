# Names, types and defaults are the original module's (reference upstream-deploy §1.2) unless a comment
# says otherwise; the variables after "new" are ours.

variable "environment" {
  description = "Prefix of every name: {environment}-interlock-*. The TUI opens dynamodb://{environment}."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", var.environment)) && length(var.environment) <= 24
    error_message = "environment: letters, digits, '_', '.', '-' (first a letter or digit), at most 24 characters (names must stay under AWS limits)."
  }
}

variable "dist_path" {
  description = "Folder holding interlock-layer.zip and <handler>.zip for the six handlers (make lambdas writes deploy/dist)."
  type        = string
}

variable "pipelines_path" {
  description = "Folder of pipeline *.yaml/*.yml files validated by `interlock validate`; \"\" loads none."
  type        = string
}

variable "calendars_path" {
  description = "Folder of named calendar *.yaml files; \"\" means calendars/ inside or beside pipelines_path when it exists (as interlock validate finds it)."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags on every taggable resource."
  type        = map(string)
  default     = {}
}

variable "lambda_memory_size" {
  description = "Memory (MB) of stream-router, orchestrator, sla-monitor and watchdog. Event-sink and alert-dispatcher use 128."
  type        = number
  default     = 128
}

variable "log_retention_days" {
  description = "Retention of the Lambda and state machine log groups."
  type        = number
  default     = 30
}

variable "watchdog_schedule" {
  description = "Schedule expression of the watchdog rule (default bus)."
  type        = string
  default     = "rate(5 minutes)"
}

# The original's default, and the one the code assumes when SFN_TIMEOUT_SECONDS is unset (the run lock TTL is
# this + 30 min). A pipeline whose evaluation window plus poll window exceeds 4 h needs a larger value.
variable "sfn_timeout_seconds" {
  description = "State machine TimeoutSeconds (whole run); also SFN_TIMEOUT_SECONDS for the run lock TTL (this + 30 min)."
  type        = number
  default     = 14400
  validation {
    condition     = var.sfn_timeout_seconds >= 60 && var.sfn_timeout_seconds <= 31536000 && floor(var.sfn_timeout_seconds) == var.sfn_timeout_seconds
    error_message = "sfn_timeout_seconds must be a whole number of seconds between 60 and 31536000 (one year, the Standard workflow limit)."
  }
}

# Default differs from the original's 3: our ASL's trigger retry is 4 attempts (30/60/120/240 s).
variable "trigger_max_attempts" {
  description = "MaxAttempts of the Trigger state's infra retry (Interlock.TriggerRetry)."
  type        = number
  default     = 4
  validation {
    condition     = var.trigger_max_attempts >= 0 && var.trigger_max_attempts <= 10 && floor(var.trigger_max_attempts) == var.trigger_max_attempts
    error_message = "trigger_max_attempts must be a whole number from 0 to 10."
  }
}

variable "events_table_ttl_days" {
  description = "Days an event row is kept (EVENTS_TTL_DAYS)."
  type        = number
  default     = 90
}

variable "slack_bot_token" {
  description = "Deprecated: a plaintext Slack bot token, used only when slack_secret_arn is empty."
  type        = string
  default     = ""
  sensitive   = true
}

variable "slack_secret_arn" {
  description = "Secrets Manager ARN of the Slack bot token (bot scopes chat:write, and channels:history or groups:history for a private channel: docs/deployers.md#the-slack-app); grants alert-dispatcher secretsmanager:GetSecretValue on it."
  type        = string
  default     = ""
}

variable "slack_channel_id" {
  description = "Slack channel for alerts (SLACK_CHANNEL_ID). Required when a token or secret is given."
  type        = string
  default     = ""
}

variable "lambda_concurrency" {
  description = "Reserved concurrency per function; -1 = unreserved."
  type = object({
    stream_router    = number
    orchestrator     = number
    sla_monitor      = number
    watchdog         = number
    event_sink       = number
    alert_dispatcher = number
  })
  default = {
    stream_router    = 10
    orchestrator     = 10
    sla_monitor      = 5
    watchdog         = 2
    event_sink       = 5
    alert_dispatcher = 3
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the tables, queues and log groups. \"\" = AWS-owned keys (tables) and SQS-managed SSE (queues). Its key policy must allow events.amazonaws.com and logs.<region>.amazonaws.com (see README)."
  type        = string
  default     = ""
}

variable "sns_alarm_topic_arn" {
  description = "SNS topic for alarm and OK actions of the 13 alarms; \"\" = none."
  type        = string
  default     = ""
}

variable "enable_glue_trigger" {
  description = "Allow the orchestrator to start and poll the Glue jobs in glue_job_arns."
  type        = bool
  default     = false
}

variable "enable_emr_trigger" {
  description = "Allow the orchestrator to add and poll steps on the EMR clusters in emr_cluster_arns."
  type        = bool
  default     = false
}

variable "enable_emr_serverless_trigger" {
  description = "Allow the orchestrator to start and poll job runs on the EMR Serverless apps in emr_serverless_app_arns."
  type        = bool
  default     = false
}

variable "enable_sfn_trigger" {
  description = "Allow the orchestrator to start and poll executions of the state machines in sfn_trigger_arns."
  type        = bool
  default     = false
}

variable "enable_lambda_trigger" {
  description = "Allow the orchestrator to invoke the functions in lambda_trigger_arns."
  type        = bool
  default     = false
}

variable "lambda_trigger_arns" {
  description = "Functions the orchestrator may invoke (required when enable_lambda_trigger)."
  type        = list(string)
  default     = []
}

variable "glue_job_arns" {
  description = "Glue jobs the orchestrator may run (required when enable_glue_trigger)."
  type        = list(string)
  default     = []
}

variable "emr_cluster_arns" {
  description = "EMR clusters the orchestrator may add steps to (required when enable_emr_trigger)."
  type        = list(string)
  default     = []
}

variable "emr_serverless_app_arns" {
  description = "EMR Serverless applications the orchestrator may run on (required when enable_emr_serverless_trigger)."
  type        = list(string)
  default     = []
}

variable "sfn_trigger_arns" {
  description = "State machines the orchestrator may start (required when enable_sfn_trigger)."
  type        = list(string)
  default     = []
}

# ------------------------------------------------------------------------------------------------ new

variable "deletion_protection" {
  description = "Deletion protection on the four tables (the original forced it on, so destroy always failed)."
  type        = bool
  default     = true
}

variable "validation_stamp_path" {
  description = "The file `python deploy/validate_configs.py` writes (\"\" = <pipelines_path>/interlock-validated.json). The loader refuses any pipeline or calendar file whose content does not match it."
  type        = string
  default     = ""
}

variable "sfn_log_level" {
  description = "State machine execution logging level (ALL, ERROR, FATAL, OFF). The original had no logging."
  type        = string
  default     = "ERROR"
  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.sfn_log_level)
    error_message = "sfn_log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "tracing" {
  description = "X-Ray active tracing for the functions and the state machine."
  type        = bool
  default     = false
}
