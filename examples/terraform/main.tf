# A root module consuming deploy/terraform, as a deployer would copy it into their own repository.
#
#   make lambdas                                        # deploy/dist: layer + six handler zips
#   python deploy/validate_configs.py examples/pipelines  # interlock validate + the stamp the loader needs
#   terraform -chdir=examples/terraform init && terraform -chdir=examples/terraform apply
#
# In your repository, point `source` at a tag of this repository
# (e.g. "git::https://<host>/<org>/interlock.git//deploy/terraform?ref=v0.1.0") and the paths at your own
# dist folder, pipelines and calendars.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "environment" {
  type    = string
  default = "dev"
}

module "interlock" {
  source = "../../deploy/terraform"

  environment    = var.environment
  dist_path      = "${path.root}/../../deploy/dist"
  pipelines_path = "${path.root}/../pipelines"
  calendars_path = "${path.root}/../calendars"

  # a dev stack: unreserved concurrency, destroyable tables
  lambda_concurrency = {
    stream_router    = -1
    orchestrator     = -1
    sla_monitor      = -1
    watchdog         = -1
    event_sink       = -1
    alert_dispatcher = -1
  }
  deletion_protection = false

  # Slack: store the bot token in Secrets Manager and name it here
  # slack_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:interlock/slack"
  # slack_channel_id = "C0123456789"

  # let the orchestrator run your Glue jobs (scoped to these ARNs)
  # enable_glue_trigger = true
  # glue_job_arns       = ["arn:aws:glue:eu-west-1:123456789012:job/load-orders"]

  tags = { project = "interlock", environment = var.environment }
}

output "store_url" {
  description = "interlock-tui --store <this>"
  value       = module.interlock.store_url
}

output "event_bus_name" { value = module.interlock.event_bus_name }
output "control_table_name" { value = module.interlock.control_table_name }
output "operator_policy_json" { value = module.interlock.operator_policy_json }
output "read_only_policy_json" { value = module.interlock.read_only_policy_json }
