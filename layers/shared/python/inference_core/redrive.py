"""The SQS redrive contract that the CDK app and the local stack both declare their queues with.

It sits in a neutral module (imports nothing) so `infra/` never imports the local stack.
"""

from __future__ import annotations

# SQS redrive: a message received this many times without being deleted moves to the DLQ. The
# worker reads the receive count against it to tell a line's last delivery from a retry.
MAX_RECEIVE_COUNT = 5
