"""DynamoDB tables (from the PynamoDB models, so the two cannot drift) and the files bucket."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from inference_core.db.tables import KeySpec, TableSpec, table_specs
from infra.nag import acknowledge, finding_resource

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}

# Powertools' idempotency utility (worker and mailer) brings its own table shape: partition key
# `id`, TTL on `expiration`. Declared here unless a PynamoDB model already registers it.
IDEMPOTENCY_SETTING = "idempotency_table"
IDEMPOTENCY_KEY = KeySpec(name="id", type="S")
IDEMPOTENCY_TTL = "expiration"


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def _env_name(setting: str) -> str:
    return f"IC_{setting.upper()}"


class DataStore(Construct):
    """One table per `table_specs()` entry (plus idempotency), and the S3 bucket for files."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        files_retention: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self._removal_policy = removal_policy
        # Keyed by the TableSettings field (`users_table`, ...): how the app finds them too.
        self.tables: dict[str, dynamodb.Table] = {}
        self._indexed: set[str] = set()
        specs = table_specs()
        for spec in specs:
            self.tables[spec.setting] = self._table(spec)
            if spec.indexes:
                self._indexed.add(spec.setting)
        if IDEMPOTENCY_SETTING not in self.tables:
            self.tables[IDEMPOTENCY_SETTING] = self._table_from_keys(
                logical_name="Idempotency", hash_key=IDEMPOTENCY_KEY, ttl_attribute=IDEMPOTENCY_TTL
            )

        self.access_logs_bucket = s3.Bucket(
            self,
            "FilesAccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal_policy,
        )
        self.files_bucket = s3.Bucket(
            self,
            "FilesBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="files/",
            lifecycle_rules=[
                # Batch inputs and outputs are working data: the API deletes them on request,
                # and this removes whatever nobody asked for in time.
                s3.LifecycleRule(id="expire-files", expiration=files_retention),
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            removal_policy=removal_policy,
        )

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = self._table_from_keys(
            logical_name=spec.logical_name,
            hash_key=spec.hash_key,
            range_key=spec.range_key,
            ttl_attribute=spec.ttl_attribute,
        )
        for index in spec.indexes:
            if index.projection not in _PROJECTIONS:
                raise ValueError(
                    f"{spec.logical_name}.{index.name}: projection {index.projection} needs its "
                    "non-key attributes, which table_specs() does not carry yet"
                )
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.hash_key),
                sort_key=_attribute(index.range_key) if index.range_key else None,
                projection_type=_PROJECTIONS[index.projection],
            )
        return table

    def _table_from_keys(
        self,
        *,
        logical_name: str,
        hash_key: KeySpec,
        range_key: KeySpec | None = None,
        ttl_attribute: str | None,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            f"{logical_name}Table",
            partition_key=_attribute(hash_key),
            sort_key=_attribute(range_key) if range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=ttl_attribute,
            deletion_protection=self._removal_policy == RemovalPolicy.RETAIN,
            removal_policy=self._removal_policy,
        )

    def grant_tables(self, role: iam.IRole, settings: tuple[str, ...], *, write: bool) -> None:
        """Item access to these tables (and their indexes); tables not declared yet are skipped."""
        for setting in settings:
            table = self.tables.get(setting)
            if table is None:
                continue
            if write:
                table.grant_read_write_data(role)
            else:
                table.grant_read_data(role)
            if setting in self._indexed:
                acknowledge(
                    role,
                    "AwsSolutions-IAM5[Resource::"
                    f"{finding_resource(self, table.table_arn)}/index/*]",
                    f"Queries on the {setting.removesuffix('_table')} table's global secondary "
                    "indexes; the wildcard covers that table's indexes only.",
                )

    def grant_files(self, role: iam.IRole, *, delete: bool) -> None:
        """Objects in the files bucket: read, write (multipart included) and, if asked, delete."""
        actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        if delete:
            actions.append("s3:DeleteObject")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=[self.files_bucket.arn_for_objects("*")])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.files_bucket.bucket_arn])
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::"
            f"{finding_resource(self, self.files_bucket.bucket_arn)}/*]",
            "File objects are keyed by generated ids at run time; the wildcard covers objects "
            "in the files bucket only, with object-level actions only.",
        )

    def environment(self) -> dict[str, str]:
        """IC_<SETTING>=<table name> for every table, and the bucket: what every function reads."""
        env = {_env_name(setting): table.table_name for setting, table in self.tables.items()}
        env["IC_FILES_BUCKET"] = self.files_bucket.bucket_name
        return env
