# The four tables of interlock/store/specs.py (keys, indexes, streams); tests/deploy checks they match.

locals {
  # GSIs per table: name => { hash, range, range_type }
  table_indexes = {
    control = { GSI1 = { hash = "GSI1PK", range = "GSI1SK", range_type = "S" } }
    joblog  = {}
    rerun   = {}
    events = {
      # eventType + timestamp: one type's history (the original's GSI1)
      GSI1 = { hash = "eventType", range = "timestamp", range_type = "N" }
      # EVENTS#<yyyy-mm-ddThh> + timestamp: "everything since T" for the TUI tail, one partition per hour
      GSI2 = { hash = "GSI2PK", range = "timestamp", range_type = "N" }
    }
  }
  table_streams = { control = true, joblog = true, rerun = false, events = false }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.table_names

  name                        = each.value
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.deletion_protection

  stream_enabled   = local.table_streams[each.key]
  stream_view_type = local.table_streams[each.key] ? "NEW_AND_OLD_IMAGES" : null

  attribute {
    name = "PK"
    type = "S"
  }
  attribute {
    name = "SK"
    type = "S"
  }
  dynamic "attribute" {
    # every index key attribute once (events' GSI1 and GSI2 share "timestamp")
    for_each = merge(
      { for i in values(local.table_indexes[each.key]) : i.hash => "S" },
      { for name, types in { for i in values(local.table_indexes[each.key]) : i.range => i.range_type... } : name => types[0] },
    )
    content {
      name = attribute.key
      type = attribute.value
    }
  }
  dynamic "global_secondary_index" {
    for_each = local.table_indexes[each.key]
    content {
      name            = global_secondary_index.key
      hash_key        = global_secondary_index.value.hash
      range_key       = global_secondary_index.value.range
      projection_type = "ALL"
    }
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.use_cmk ? var.kms_key_arn : null
  }

  tags = var.tags
}
