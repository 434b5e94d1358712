"""Batch jobs: OpenAI-compatible Files and Batches on S3 + DynamoDB, run by an SQS worker.

- `messages`: the versioned batch-queue message schema (the direct-SQS submission is public);
- `inputs`: validation of JSONL input files;
- `storage`: file bodies in S3; `queue`: the batch queue (SQS);
- `service`: files, batches, the inline form and direct submissions (the API and the worker);
- `lines`: running one line through the inference service; `finalizer`: the output files;
- `worker`: one SQS record → the right step, with idempotency, retries and the DLQ.
"""
