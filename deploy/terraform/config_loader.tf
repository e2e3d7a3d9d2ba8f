# Pipeline configs and named calendars → control-table rows, refused at plan time unless
# `interlock validate` accepted exactly these files.
#
# Terraform cannot run the validator itself without a provider that executes programs (hashicorp/external),
# which would make every plan depend on a local Python with interlock installed and on a provider outside
# hashicorp/aws. Instead `python deploy/validate_configs.py <pipelines_path>` runs the same loader as
# `interlock validate` and writes a stamp: the verdict, every problem, the sha256 of each file it read and
# the normalised row it would push (what `interlock config push` writes). Here we refuse the plan when the
# stamp is missing, says invalid, or does not match the files on disk (a file added or edited after
# validation), and write rows only from the stamp.
#
#   control  PIPELINE#<pipeline.id>  CONFIG    config (JSON text), GSI1PK=CONFIGS,   GSI1SK=<id>
#   control  CALENDAR#<name>         CALENDAR  calendar (JSON text), GSI1PK=CALENDARS, GSI1SK=<name>

locals {
  loader_enabled  = var.pipelines_path != ""
  stamp_path      = var.validation_stamp_path != "" ? var.validation_stamp_path : "${var.pipelines_path}/interlock-validated.json"
  stamp_exists    = local.loader_enabled && fileexists(local.stamp_path)
  stamp           = jsondecode(local.stamp_exists ? file(local.stamp_path) : "{}")
  stamp_valid     = try(local.stamp.valid, false) == true
  stamp_errors    = try(local.stamp.errors, [])
  stamp_pipelines = try(local.stamp.pipelines, {})
  stamp_calendars = try(local.stamp.calendars, {})

  # every file that must have been validated: the pipelines, and the calendars when calendars_path is given
  pipeline_files = local.loader_enabled ? [for f in sort(fileset(var.pipelines_path, "*.{yaml,yml}")) : "${var.pipelines_path}/${f}"] : []
  calendar_files = local.loader_enabled && var.calendars_path != "" ? [for f in sort(fileset(var.calendars_path, "*.{yaml,yml}")) : "${var.calendars_path}/${f}"] : []

  # every file the validator read (paths relative to pipelines_path) → its sha256 then
  stamp_files = { for rel, sha in try(local.stamp.files, {}) : abspath("${var.pipelines_path}/${rel}") => sha }
  unvalidated = [for f in concat(local.pipeline_files, local.calendar_files) : f if !contains(keys(local.stamp_files), abspath(f))]
  stale = [
    for f, sha in local.stamp_files : f if !fileexists(f) || (fileexists(f) ? filesha256(f) : "") != sha
  ]

  # the longest run of each pipeline (interlock.config.budget): evaluation + poll windows + step margin
  # from the stamp, plus the Trigger state's backoffs (30 s doubling, trigger_max_attempts times)
  trigger_backoff_seconds = 30 * (pow(2, var.trigger_max_attempts) - 1)
  too_long = {
    for id, p in local.stamp_pipelines : id => try(p.execution_seconds, 0) + local.trigger_backoff_seconds
    if try(p.execution_seconds, 0) + local.trigger_backoff_seconds > var.sfn_timeout_seconds
  }

  config_rows   = local.loader_enabled ? local.stamp_pipelines : {}
  calendar_rows = local.loader_enabled ? local.stamp_calendars : {}
}

resource "terraform_data" "config_validation" {
  count = local.loader_enabled ? 1 : 0
  input = try(local.stamp.files, {}) # paths relative to pipelines_path: the same plan on every machine

  lifecycle {
    precondition {
      condition     = local.stamp_exists
      error_message = "No validation stamp at ${local.stamp_path}: run `python deploy/validate_configs.py ${var.pipelines_path}${var.calendars_path != "" ? " --calendars ${var.calendars_path}" : ""}` (it runs `interlock validate` and records what it accepted)."
    }
    precondition {
      condition     = !local.stamp_exists || local.stamp_valid
      error_message = "interlock validate refused the pipeline configs:\n${join("\n", [for e in local.stamp_errors : "  ${e.file}:${coalesce(e.line, 0)} ${e.key}: ${e.message}"])}"
    }
    precondition {
      condition     = length(local.unvalidated) == 0 && length(local.stale) == 0
      error_message = "Files changed since `interlock validate` accepted them; run deploy/validate_configs.py again. Not validated: ${jsonencode(local.unvalidated)}; changed or missing: ${jsonencode(local.stale)}."
    }
    precondition {
      condition     = length(local.too_long) == 0
      error_message = "A run of these pipelines can take longer than the state machine timeout (sfn_timeout_seconds = ${var.sfn_timeout_seconds}): Step Functions would cut it off while the job may still run. Raise sfn_timeout_seconds to at least ${max(0, values(local.too_long)...)} or shorten their evaluation.window / jobPollWindowSeconds (`interlock validate --sfn-timeout-seconds N` names the lines): ${join(", ", [for id, s in local.too_long : "${id} (${s} s)"])}."
    }
  }
}

resource "aws_dynamodb_table_item" "config" {
  for_each   = local.config_rows
  table_name = aws_dynamodb_table.this["control"].name
  hash_key   = "PK"
  range_key  = "SK"
  item = jsonencode({
    PK        = { S = "PIPELINE#${each.key}" }
    SK        = { S = "CONFIG" }
    config    = { S = each.value.config }
    createdAt = { S = each.value.created_at }
    updatedAt = { S = each.value.updated_at }
    GSI1PK    = { S = "CONFIGS" }
    GSI1SK    = { S = each.key }
  })
  depends_on = [terraform_data.config_validation]
}

resource "aws_dynamodb_table_item" "calendar" {
  for_each   = local.calendar_rows
  table_name = aws_dynamodb_table.this["control"].name
  hash_key   = "PK"
  range_key  = "SK"
  item = jsonencode({
    PK       = { S = "CALENDAR#${each.key}" }
    SK       = { S = "CALENDAR" }
    calendar = { S = each.value.calendar }
    GSI1PK   = { S = "CALENDARS" }
    GSI1SK   = { S = each.key }
  })
  depends_on = [terraform_data.config_validation]
}
