"""PynamoDB models: the one definition of every table's keys, indexes and TTL attribute.

The local stack creates its tables from these models and the CDK app's tables are checked against
them by a test, so the two cannot drift. Table names, region and endpoint are bound at first use by
`configure_models` (never at import). Every item that expires carries `expires_at` (a DynamoDB TTL
attribute, epoch seconds); TTL only cleans up: expiry is always checked in code too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from inference_core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class _Meta:
    region = "us-east-1"
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"
    max_retry_attempts = 3
    connect_timeout_seconds = 5
    read_timeout_seconds = 10


class UsersByEmailIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "email-index"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


class UserModel(Model):
    """A person: profile, argon2id password hash, role, flags, and their own rate window."""

    class Meta(_Meta):
        table_name = "ic-users"

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()  # normalized: stripped and lower-cased
    email_index = UsersByEmailIndex()
    password_hash = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute(default="user")  # "user" | "superuser"
    is_active = BooleanAttribute(default=True)
    email_verified = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    # Access tokens issued before this instant (epoch seconds) are refused.
    tokens_valid_after = NumberAttribute(default=0)
    allowed_models = ListAttribute(of=UnicodeAttribute, null=True)  # None: every model
    rpm_limit = NumberAttribute(null=True)
    window_start = NumberAttribute(default=0)  # epoch minute of the current rate window
    window_count = NumberAttribute(default=0)
    last_used_at = NumberAttribute(null=True)  # last counted request made with a JWT


class ApiKeysByOwnerIndex(GlobalSecondaryIndex["ApiKeyModel"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class ApiKeyModel(Model):
    """An API key, stored only as the SHA-256 of its secret; carries its own rate window."""

    class Meta(_Meta):
        table_name = "ic-api-keys"

    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    owner_index = ApiKeysByOwnerIndex()
    owner_role = UnicodeAttribute(default="user")
    name = UnicodeAttribute(null=True)
    prefix = UnicodeAttribute()  # the first characters of the secret, for people to recognise it
    created_at = NumberAttribute()
    last_used_at = NumberAttribute(null=True)
    allowed_models = ListAttribute(of=UnicodeAttribute, null=True)
    rpm_limit = NumberAttribute()
    revoked = BooleanAttribute(default=False)
    window_start = NumberAttribute(default=0)
    window_count = NumberAttribute(default=0)


class SessionsByUserIndex(GlobalSecondaryIndex["SessionModel"]):
    class Meta:
        index_name = "user-index"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class SessionModel(Model):
    """Everything session-like, told apart by `kind` and the `pk` prefix.

    - `family#<id>`: a refresh-token family (the current token's `jti`; reuse revokes the family)
    - `chat#<id>`: a `/v1/chat` conversation history
    - `otp#<sha256>`: a single-use email-verification or password-reset token, stored as a hash
    - `email#<sha256 of the normalized email>`: the claim that makes an email unique among users
      (written in one transaction with the user; `expires_at` far in the future)
    """

    class Meta(_Meta):
        table_name = "ic-sessions"

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    user_id = UnicodeAttribute()
    user_index = SessionsByUserIndex()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()  # TTL attribute (see TTL_ATTRIBUTES)
    current_jti = UnicodeAttribute(null=True)
    revoked = BooleanAttribute(default=False)
    purpose = UnicodeAttribute(null=True)
    used = BooleanAttribute(default=False)
    model = UnicodeAttribute(null=True)
    messages = JSONAttribute(null=True)


class CacheEntryModel(Model):
    """A cached response: the key hashes the tenant, the model and the normalized request."""

    class Meta(_Meta):
        table_name = "ic-cache"

    cache_key = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    model = UnicodeAttribute()
    response = JSONAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()


class UsageRecordModel(Model):
    """One line of the usage ledger per request: tokens, cost, latency, cache hit."""

    class Meta(_Meta):
        table_name = "ic-usage"

    tenant_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<epoch ms, zero-padded>#<request id>"
    request_id = UnicodeAttribute()
    key_id = UnicodeAttribute(null=True)
    endpoint = UnicodeAttribute()
    model = UnicodeAttribute()
    provider = UnicodeAttribute(null=True)
    deployment = UnicodeAttribute(null=True)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    latency_ms = NumberAttribute(default=0)
    cached = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="ok")
    created_at = NumberAttribute()
    expires_at = NumberAttribute()


# Core tables, in the order the local stack creates them. The batch and files tables join this
# list in their own modules' issue.
CORE_MODELS: tuple[type[Model], ...] = (
    UserModel,
    ApiKeyModel,
    SessionModel,
    CacheEntryModel,
    UsageRecordModel,
)

# The TTL attribute of each table (by model). PynamoDB's TTLAttribute insists on datetimes, and
# every expiry here is compared as epoch seconds in code, so the TTL is declared here instead.
TTL_ATTRIBUTES: dict[type[Model], str] = {
    SessionModel: "expires_at",
    CacheEntryModel: "expires_at",
    UsageRecordModel: "expires_at",
}

_TABLE_SETTING: dict[type[Model], str] = {
    UserModel: "users_table",
    ApiKeyModel: "api_keys_table",
    SessionModel: "sessions_table",
    CacheEntryModel: "cache_table",
    UsageRecordModel: "usage_table",
}

ALL_MODELS: list[type[Model]] = list(CORE_MODELS)


def dynamodb_client(model: type[Model]) -> DynamoDBClient:
    """The boto3 DynamoDB client PynamoDB holds for `model`'s table, for the calls PynamoDB does
    not express (a counting UpdateItem, a multi-table transaction or batch write)."""
    return cast("DynamoDBClient", model._get_connection().connection.client)


def register_model(model: type[Model], *, table_setting: str, ttl_attribute: str | None) -> None:
    """Add a table owned by another module (batch jobs, files) to the same machinery."""
    if model not in ALL_MODELS:
        ALL_MODELS.append(model)
    _TABLE_SETTING[model] = table_setting
    if ttl_attribute:
        TTL_ATTRIBUTES[model] = ttl_attribute


def configure_models(settings: Settings) -> None:
    """Bind every model to its table name, region and endpoint (the local stack's moto server)."""
    for model in ALL_MODELS:
        meta: Any = model.Meta
        meta.table_name = getattr(settings.tables, _TABLE_SETTING[model])
        meta.region = settings.aws.region
        meta.host = settings.aws.aws_endpoint_url
        model._connection = None
