"""Small readers over a synthesized CloudFormation template, shared by the infra tests."""

from __future__ import annotations

from typing import Any


def ref_id(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def referenced_ids(value: Any) -> set[str]:
    """Every logical id referenced anywhere inside `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        target = ref_id(value)
        if target:
            found.add(target)
        for inner in value.values():
            found |= referenced_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced_ids(inner)
    return found


def resource_paths(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """{AWS::ApiGateway::Resource logical id: its full path, e.g. /v1/chat/completions}."""
    api_resources = {k: r for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::Resource"}
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = api_resources[logical_id]["Properties"]
            parent = ref_id(props["ParentId"])
            prefix = path_of(parent) if parent in api_resources else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in api_resources:
        path_of(logical_id)
    return paths


def methods_by_route(resources: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """{(path, HTTP method): method properties}; the API root is `/`."""
    paths = resource_paths(resources)
    routes: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::ApiGateway::Method":
            continue
        props = resource["Properties"]
        parent = ref_id(props["ResourceId"])
        path = paths.get(parent or "", "/")
        routes[(path, props["HttpMethod"])] = props
    return routes


def policy_statements(resources: dict[str, dict[str, Any]], role_id: str) -> list[dict[str, Any]]:
    """Every statement of every AWS::IAM::Policy attached to the role, and its inline ones."""
    statements: list[dict[str, Any]] = []
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            roles = {ref_id(r) for r in resource["Properties"].get("Roles", [])}
            if role_id in roles:
                statements += resource["Properties"]["PolicyDocument"]["Statement"]
    for policy in resources[role_id]["Properties"].get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return statements


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        value = statement.get("Action", [])
        actions |= {value} if isinstance(value, str) else set(value)
    return actions
