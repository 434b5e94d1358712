#!/bin/bash
# Data-plane entry point under the AWS Lambda Web Adapter (AWS_LWA_INVOKE_MODE=response_stream):
# the same app factory as handler.py, served by uvicorn so responses stream token by token.
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT:-.}:${PYTHONPATH:-}"
exec python -m uvicorn inference_core.api.app:create_app --factory \
  --host 127.0.0.1 --port "${PORT:-8080}" --no-access-log --timeout-keep-alive 60
