"""DynamoDB tables equal the PynamoDB models; the files bucket and the secrets are locked down."""

from __future__ import annotations

from typing import Any

from infra.data import IDEMPOTENCY_KEY, IDEMPOTENCY_SETTING, IDEMPOTENCY_TTL

from inference_core.db.tables import table_specs
from tests.infra.cfn import ref_id
from tests.infra.conftest import Synth


def _key_schema(hash_key: Any, range_key: Any) -> list[dict[str, str]]:
    keys = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return keys


def _tables_by_setting(synth: Synth) -> dict[str, dict[str, Any]]:
    data = synth.stack.node.find_child("Data")
    return {
        setting: synth.resources[synth.logical_id(table)] for setting, table in data.tables.items()
    }


def test_every_model_has_a_table_with_the_same_keys_indexes_and_ttl(any_synth):
    tables = _tables_by_setting(any_synth)
    specs = table_specs()
    assert {s.setting for s in specs} <= set(tables)
    for spec in specs:
        props = tables[spec.setting]["Properties"]
        assert props["KeySchema"] == _key_schema(spec.hash_key, spec.range_key), spec.setting
        types = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
        expected_types = {spec.hash_key.name: spec.hash_key.type}
        if spec.range_key:
            expected_types[spec.range_key.name] = spec.range_key.type
        for index in spec.indexes:
            expected_types[index.hash_key.name] = index.hash_key.type
            if index.range_key:
                expected_types[index.range_key.name] = index.range_key.type
        assert types == expected_types, spec.setting
        indexes = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in spec.indexes}, spec.setting
        for index in spec.indexes:
            gsi = indexes[index.name]
            assert gsi["KeySchema"] == _key_schema(index.hash_key, index.range_key), index.name
            assert gsi["Projection"]["ProjectionType"] == index.projection, index.name
        if spec.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": spec.ttl_attribute,
                "Enabled": True,
            }, spec.setting
        else:
            assert "TimeToLiveSpecification" not in props, spec.setting


def test_the_idempotency_table_has_the_powertools_shape(default_synth):
    props = _tables_by_setting(default_synth)[IDEMPOTENCY_SETTING]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": IDEMPOTENCY_KEY.name, "KeyType": "HASH"}]
    assert IDEMPOTENCY_KEY.name == "id" and IDEMPOTENCY_TTL == "expiration"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_no_table_exists_that_no_model_describes(default_synth):
    expected = {s.setting for s in table_specs()} | {IDEMPOTENCY_SETTING}
    assert set(_tables_by_setting(default_synth)) == expected
    assert len(default_synth.of_type("AWS::DynamoDB::Table")) == len(expected)


def test_tables_are_on_demand_with_pitr_and_encryption(any_synth):
    for logical_id, table in any_synth.of_type("AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id


def test_removal_policy_is_retain_by_default_and_a_parameter(default_synth, full_synth):
    for table in default_synth.of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for table in full_synth.of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"].get("DeletionProtectionEnabled", False) is False
    for bucket in default_synth.of_type("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain"


def test_the_files_bucket_is_private_encrypted_tls_only_logged_and_expiring(any_synth):
    data = any_synth.stack.node.find_child("Data")
    bucket_id = any_synth.logical_id(data.files_bucket)
    props = any_synth.resources[bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert ref_id(props["LoggingConfiguration"]["DestinationBucketName"]) == any_synth.logical_id(
        data.access_logs_bucket
    )
    expirations = [r for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expirations and all(r["Status"] == "Enabled" for r in expirations)
    (policy,) = [
        p
        for p in any_synth.of_type("AWS::S3::BucketPolicy").values()
        if ref_id(p["Properties"]["Bucket"]) == bucket_id
    ]
    denies_plain_http = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert denies_plain_http


def test_the_jwt_key_is_generated_and_long_enough(default_synth):
    secrets = default_synth.stack.node.find_child("Secrets")
    props = default_synth.resources[default_synth.logical_id(secrets.jwt_secret)]["Properties"]
    generator = props["GenerateSecretString"]
    # 62 symbols per character: 64 characters is about 381 bits (the app needs 256).
    assert generator["PasswordLength"] >= 43 and generator["ExcludePunctuation"] is True
    assert "SecretString" not in props


def test_the_provider_keys_secret_holds_only_empty_placeholders(default_synth):
    secrets = default_synth.stack.node.find_child("Secrets")
    props = default_synth.resources[default_synth.logical_id(secrets.provider_keys)]["Properties"]
    import json

    assert json.loads(props["SecretString"]) == {"openai": "", "anthropic": ""}
