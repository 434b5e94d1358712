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
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from inference_core.settings import Settings


class _Meta:
    region = "us-east-1"
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"
    max_retry_attempts = 3
    connect_timeout_seconds = 5
    read_timeout_seconds = 10
    # The batch worker admits and settles up to `batch_worker_concurrency` (32) lines at once
    # through these clients (botocore's default pool of 10 would reconnect for the rest).
    max_pool_connections = 50


class UsersByEmailIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "email-index"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


class AuditByTargetIndex(GlobalSecondaryIndex["AuditRecordModel"]):
    class Meta:
        index_name = "target-index"
        projection = AllProjection()

    target_id = UnicodeAttribute(hash_key=True)
    at = NumberAttribute(range_key=True)


class UsersByTeamIndex(GlobalSecondaryIndex["UserModel"]):
    """The members of a team (sparse: only users with a `team_id` appear)."""

    class Meta:
        index_name = "team-index"
        projection = AllProjection()

    team_id = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


# Governance attributes, the same on every level (an API key, its user, the user's team); only
# `db.admission` writes the state. Limits (None: no limit at this level): `rpm_limit`,
# `tpm_limit`, `max_parallel_requests`, `max_budget_usd` with `budget_period` (`day` | `month` |
# `total`, UTC calendar periods), `allowed_models`. State, as maps so that a settle never depends
# on which window or period is current when it lands:
# - `request_window` {"<epoch minute>": requests}, `token_window` {"<epoch minute>": tokens}
# - `spend` {"<period id>": USD settled + reserved}; ids `d2026-12-01`, `m2026-12`, `total`
# - `leases` {"<request id>": {"x": expiry epoch, "c": reserved USD, "p": period id}}


class UserModel(Model):
    """A person: profile, argon2id password hash, role, flags, team, limits and governance state."""

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
    # Session families signed out (logout, refresh-token reuse): {"<family id>": until epoch}.
    # An entry lives as long as an access token can (after that every token of the family is
    # expired anyway), so the map stays small; admission refuses a JWT whose family is here.
    revoked_sessions = MapAttribute[str, Any](default=dict)
    team_id = UnicodeAttribute(null=True)  # at most one team
    team_index = UsersByTeamIndex()
    # The user's live (not revoked) API keys, counted in the same transaction that puts or revokes
    # one (db.api_keys), so the cap on them is exact. Absent on users from before it existed:
    # counted once from their keys on first use.
    live_api_keys = NumberAttribute(null=True)
    # governance: limits (None: no limit at this level) and state (see GovernedItem)
    rpm_limit = NumberAttribute(null=True)
    tpm_limit = NumberAttribute(null=True)
    max_parallel_requests = NumberAttribute(null=True)
    max_budget_usd = NumberAttribute(null=True)
    budget_period = UnicodeAttribute(null=True)  # "day" | "month" | "total"
    allowed_models = ListAttribute(of=UnicodeAttribute, null=True)  # None: every model
    request_window = MapAttribute[str, Any](default=dict)
    token_window = MapAttribute[str, Any](default=dict)
    spend = MapAttribute[str, Any](default=dict)
    leases = MapAttribute[str, Any](default=dict)


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
    # Extra scopes (`manage`); none: inference and reading its own usage only.
    scopes = ListAttribute(of=UnicodeAttribute, null=True)
    revoked = BooleanAttribute(default=False)
    # Epoch seconds after which the key is refused (a condition of the admission write). Not the
    # table's TTL attribute: an expired key stays listable.
    expires_at = NumberAttribute(null=True)
    # governance: limits (None: no limit at this level) and state (see GovernedItem)
    rpm_limit = NumberAttribute(null=True)
    tpm_limit = NumberAttribute(null=True)
    max_parallel_requests = NumberAttribute(null=True)
    max_budget_usd = NumberAttribute(null=True)
    budget_period = UnicodeAttribute(null=True)  # "day" | "month" | "total"
    allowed_models = ListAttribute(of=UnicodeAttribute, null=True)  # None: every model
    guardrails = MapAttribute[str, Any](null=True)  # the key's guardrail policy (admin API)
    request_window = MapAttribute[str, Any](default=dict)
    token_window = MapAttribute[str, Any](default=dict)
    spend = MapAttribute[str, Any](default=dict)
    leases = MapAttribute[str, Any](default=dict)


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
    # The refresh token `current_jti` replaced, and when (epoch seconds, ms precision): for the
    # grace window in which a concurrent refresh of that same token is not a reuse.
    previous_jti = UnicodeAttribute(null=True)
    rotated_at = NumberAttribute(null=True)
    revoked = BooleanAttribute(default=False)
    purpose = UnicodeAttribute(null=True)
    used = BooleanAttribute(default=False)
    model = UnicodeAttribute(null=True)
    messages = JSONAttribute(null=True)
    version = NumberAttribute(null=True)  # a chat history's optimistic-concurrency counter


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


class ResponseRecordModel(Model):
    """A piece of a stored Responses API response, one conversation under one partition key.

    `pk` is `<tenant id>#<response id>`, so another tenant's id finds nothing. `sk` is
    `body#<chunk>` for the response object and `in#<position>#<chunk>` for each input item (the
    whole conversation the response saw). Every document is JSON cut into chunks well under
    DynamoDB's 400 KB item limit, so neither a long conversation nor one large item outgrows it.
    """

    class Meta(_Meta):
        table_name = "ic-responses"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    data = UnicodeAttribute()  # a chunk of the document's JSON (ASCII: chars are bytes)
    created_at = NumberAttribute()
    expires_at = NumberAttribute()  # TTL attribute (see TTL_ATTRIBUTES), on every piece


class TeamModel(Model):
    """A team: a name, its limits and budget, and the governance state its members' requests
    share. Members are the users whose `team_id` is this team (the users table's team-index)."""

    class Meta(_Meta):
        table_name = "ic-teams"

    team_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    created_at = NumberAttribute()
    updated_at = NumberAttribute(null=True)
    # A deleted team is kept (its usage stays attributable) but applies no limits any more.
    deleted = BooleanAttribute(default=False)
    rpm_limit = NumberAttribute(null=True)
    tpm_limit = NumberAttribute(null=True)
    max_parallel_requests = NumberAttribute(null=True)
    max_budget_usd = NumberAttribute(null=True)
    budget_period = UnicodeAttribute(null=True)
    allowed_models = ListAttribute(of=UnicodeAttribute, null=True)
    guardrails = MapAttribute[str, Any](null=True)  # the team's guardrail policy (admin API)
    request_window = MapAttribute[str, Any](default=dict)
    token_window = MapAttribute[str, Any](default=dict)
    spend = MapAttribute[str, Any](default=dict)
    leases = MapAttribute[str, Any](default=dict)


class UsageAggregateModel(Model):
    """Daily usage counters, written by the settle transaction, read by the usage APIs (a Query
    on one `scope` between two days, never a scan). Layout (see docs/governance.md):

    | scope            | sk                                   |
    | ---------------- | ------------------------------------ |
    | `key#<key id>`   | `<YYYY-MM-DD>#<model>`               |
    | `user#<user id>` | `<YYYY-MM-DD>#<model>#<key id or -> `|
    | `team#<team id>` | `<YYYY-MM-DD>#<model>#<user id>`     |
    | `model#<alias>`  | `<YYYY-MM-DD>#<user id>`             |
    """

    class Meta(_Meta):
        table_name = "ic-usage-aggregates"

    scope = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    day = UnicodeAttribute()
    model = UnicodeAttribute()
    key_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    team_id = UnicodeAttribute(null=True)
    requests = NumberAttribute(default=0)
    cached_requests = NumberAttribute(default=0)
    input_tokens = NumberAttribute(default=0)
    output_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


class AuditRecordModel(Model):
    """One administrative change: who did what to which target, the values before and after.

    Partitioned by UTC day (`day#<YYYY-MM-DD>`) and sorted by time, so reading the log is a Query
    per day, newest first; `target-index` answers "what happened to this user/team/key".
    """

    class Meta(_Meta):
        table_name = "ic-audit"

    pk = UnicodeAttribute(hash_key=True)  # "day#<YYYY-MM-DD>"
    sk = UnicodeAttribute(range_key=True)  # "<epoch ms, zero-padded>#<audit id>"
    audit_id = UnicodeAttribute()
    actor_id = UnicodeAttribute()  # the superuser (or "cli")
    action = UnicodeAttribute()  # e.g. "team.create", "user.update", "key.revoke"
    target_type = UnicodeAttribute()  # "user" | "team" | "key" | "cache"
    target_id = UnicodeAttribute()
    target_index = AuditByTargetIndex()
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    at = NumberAttribute()
    expires_at = NumberAttribute(null=True)


# Core tables, in the order the local stack creates them. The batch and files tables join this
# list in their own modules' issue.
CORE_MODELS: tuple[type[Model], ...] = (
    UserModel,
    ApiKeyModel,
    SessionModel,
    CacheEntryModel,
    UsageRecordModel,
    ResponseRecordModel,
    TeamModel,
    UsageAggregateModel,
    AuditRecordModel,
)

# The TTL attribute of each table (by model). PynamoDB's TTLAttribute insists on datetimes, and
# every expiry here is compared as epoch seconds in code, so the TTL is declared here instead.
TTL_ATTRIBUTES: dict[type[Model], str] = {
    SessionModel: "expires_at",
    CacheEntryModel: "expires_at",
    UsageRecordModel: "expires_at",
    ResponseRecordModel: "expires_at",
    UsageAggregateModel: "expires_at",
    AuditRecordModel: "expires_at",
}

_TABLE_SETTING: dict[type[Model], str] = {
    UserModel: "users_table",
    ApiKeyModel: "api_keys_table",
    SessionModel: "sessions_table",
    CacheEntryModel: "cache_table",
    UsageRecordModel: "usage_table",
    ResponseRecordModel: "responses_table",
    TeamModel: "teams_table",
    UsageAggregateModel: "usage_aggregates_table",
    AuditRecordModel: "audit_table",
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
