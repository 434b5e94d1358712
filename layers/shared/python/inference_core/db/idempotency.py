"""The idempotency table: records written by Powertools' idempotency utility (mailer, worker).

Powertools owns the items (`DynamoDBPersistenceLayer` with its default attribute names); this model
only declares the table's key and TTL so the local stack and the CDK app create it from the same
definition as every other table. Importing this module registers the table.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from inference_core.db.models import _Meta, register_model


class IdempotencyRecordModel(Model):
    """One idempotency record: `id` is Powertools' `<prefix>#<hash of the idempotency key>`."""

    class Meta(_Meta):
        table_name = "ic-idempotency"

    id = UnicodeAttribute(hash_key=True)
    expiration = NumberAttribute(null=True)  # TTL attribute, epoch seconds
    in_progress_expiration = NumberAttribute(null=True)  # epoch milliseconds
    status = UnicodeAttribute(null=True)  # INPROGRESS | COMPLETED | EXPIRED
    data = UnicodeAttribute(null=True)  # the stored result (JSON)
    validation = UnicodeAttribute(null=True)  # hash of the payload fields that must not change


register_model(
    IdempotencyRecordModel, table_setting="idempotency_table", ttl_attribute="expiration"
)
