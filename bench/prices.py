"""AWS us-east-1 list prices the cost bench uses: the one table, in USD (on-demand, no free tier).

Checked against the public pricing pages (DynamoDB on-demand after the November 2024 cut). Update
here, nowhere else.
"""

from __future__ import annotations

PRICES_US_EAST_1: dict[str, float] = {
    # DynamoDB on-demand: per request unit; a WRU writes 1 KB, an RRU reads 4 KB (strong) or 8 KB
    # (eventual); transactional requests cost double; every GSI an item lands in costs a WRU too.
    "dynamodb_write_request_unit": 0.625 / 1_000_000,
    "dynamodb_read_request_unit": 0.125 / 1_000_000,
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_pitr_gb_month": 0.20,
    # Lambda on arm64 (Graviton): first pricing tier
    "lambda_arm64_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1_000_000,
    # API Gateway REST API (first 333 million requests a month)
    "api_gateway_rest_request": 3.50 / 1_000_000,
    # SQS standard queue, per 64 KB request chunk
    "sqs_request": 0.40 / 1_000_000,
    # S3 Standard
    "s3_put_request": 0.005 / 1_000,
    "s3_get_request": 0.0004 / 1_000,
    # Fixed monthly items of the stack (what it costs with no traffic)
    "secrets_manager_secret_month": 0.40,
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_dashboard_month": 3.00,
}
