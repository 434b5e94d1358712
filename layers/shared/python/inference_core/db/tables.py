"""Table shapes derived from the PynamoDB models, for the local stack and the CDK app.

`table_specs()` is what both `local.stack` (creating tables in moto) and `infra/` (declaring them in
CloudFormation) build from, and what `tests/infra` compares the synthesized template against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.models import Model

from inference_core.db import models as m

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str  # "S" | "N" | "B"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: KeySpec
    range_key: KeySpec | None
    projection: str  # "ALL" | "KEYS_ONLY" | "INCLUDE"


@dataclass(frozen=True)
class TableSpec:
    model: type[Model]
    setting: str  # the TableSettings field holding the table's name
    default_name: str
    hash_key: KeySpec
    range_key: KeySpec | None
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None

    @property
    def logical_name(self) -> str:
        """A stable CamelCase name for CloudFormation ids and outputs, e.g. `ApiKeys`."""
        return "".join(part.capitalize() for part in self.setting.removesuffix("_table").split("_"))


def _key(model: type[Model], name: str) -> KeySpec:
    attr: Any = model.get_attributes()[name]
    return KeySpec(name=name, type=attr.attr_type)


def describe(model: type[Model]) -> TableSpec:
    schema: Any = model._get_schema()
    hash_key = next(k["AttributeName"] for k in schema["key_schema"] if k["KeyType"] == "HASH")
    range_key = next(
        (k["AttributeName"] for k in schema["key_schema"] if k["KeyType"] == "RANGE"), None
    )
    types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    indexes = []
    for gsi in schema["global_secondary_indexes"]:
        gh = next(k["AttributeName"] for k in gsi["key_schema"] if k["KeyType"] == "HASH")
        gr = next((k["AttributeName"] for k in gsi["key_schema"] if k["KeyType"] == "RANGE"), None)
        indexes.append(
            IndexSpec(
                name=gsi["index_name"],
                hash_key=KeySpec(gh, types[gh]),
                range_key=KeySpec(gr, types[gr]) if gr else None,
                projection=gsi["projection"]["ProjectionType"],
            )
        )
    setting = m._TABLE_SETTING[model]
    from inference_core.settings import TableSettings

    return TableSpec(
        model=model,
        setting=setting,
        default_name=TableSettings.model_fields[setting].default,
        hash_key=KeySpec(hash_key, types[hash_key]),
        range_key=KeySpec(range_key, types[range_key]) if range_key else None,
        indexes=tuple(indexes),
        ttl_attribute=m.TTL_ATTRIBUTES.get(model),
    )


def table_specs() -> list[TableSpec]:
    import inference_core.db.batch_models  # (registers the jobs and files tables)
    import inference_core.db.idempotency  # noqa: F401  (registers the idempotency table)

    return [describe(model) for model in m.ALL_MODELS]


def create_tables(client: DynamoDBClient, names: dict[str, str] | None = None) -> list[str]:
    """Create every table (on-demand, TTL on) with a boto3 DynamoDB client; skip existing ones."""
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for spec in table_specs():
        name = (names or {}).get(spec.setting, spec.default_name)
        if name in existing:
            continue
        keys = [spec.hash_key] + ([spec.range_key] if spec.range_key else [])
        attrs = {k.name: k.type for k in keys}
        gsis = []
        for index in spec.indexes:
            ikeys = [index.hash_key] + ([index.range_key] if index.range_key else [])
            attrs.update({k.name: k.type for k in ikeys})
            gsis.append(
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": k.name, "KeyType": kt}
                        for k, kt in zip(ikeys, ("HASH", "RANGE"), strict=False)
                    ],
                    "Projection": {"ProjectionType": index.projection},
                }
            )
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [
                {"AttributeName": k.name, "KeyType": kt}
                for k, kt in zip(keys, ("HASH", "RANGE"), strict=False)
            ],
            "AttributeDefinitions": [
                {"AttributeName": n, "AttributeType": t} for n, t in attrs.items()
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if gsis:
            kwargs["GlobalSecondaryIndexes"] = gsis
        client.create_table(**kwargs)
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
        created.append(name)
    return created
