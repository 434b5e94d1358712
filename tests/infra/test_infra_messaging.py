"""SQS queues and their consumers, SES, and who may do what (least privilege per role)."""

from __future__ import annotations

from typing import Any

from tests.infra.cfn import actions_of, policy_statements, ref_id, referenced_ids
from tests.infra.conftest import Synth


def _role_id(synth: Synth, name: str) -> str:
    return synth.logical_id(synth.stack.functions[name].role)


def _actions(synth: Synth, name: str) -> set[str]:
    return actions_of(policy_statements(synth.resources, _role_id(synth, name)))


def _event_sources(synth: Synth) -> dict[str, dict[str, Any]]:
    return synth.of_type("AWS::Lambda::EventSourceMapping")


def test_every_event_source_reports_partial_batch_failures(any_synth):
    mappings = _event_sources(any_synth)
    consumers = {ref_id(m["Properties"]["FunctionName"]) for m in mappings.values()}
    assert consumers == {
        any_synth.logical_id(any_synth.stack.functions[name].function)
        for name in ("Worker", "Mailer")
    }
    for logical_id, mapping in mappings.items():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical_id
        assert props["ScalingConfig"]["MaximumConcurrency"] >= 2, logical_id
        assert 1 <= props["BatchSize"], logical_id


def test_batch_size_and_concurrency_are_parameters(default_synth, full_synth):
    worker = default_synth.logical_id(default_synth.stack.functions["Worker"].function)
    (default,) = [
        m
        for m in _event_sources(default_synth).values()
        if ref_id(m["Properties"]["FunctionName"]) == worker
    ]
    assert default["Properties"]["BatchSize"] == 100
    assert default["Properties"]["MaximumBatchingWindowInSeconds"] >= 1
    assert default["Properties"]["ScalingConfig"]["MaximumConcurrency"] == 5
    worker = full_synth.logical_id(full_synth.stack.functions["Worker"].function)
    (full,) = [
        m
        for m in _event_sources(full_synth).values()
        if ref_id(m["Properties"]["FunctionName"]) == worker
    ]
    assert full["Properties"]["BatchSize"] == 25
    # More than 10 records per batch requires a batching window.
    assert full["Properties"]["MaximumBatchingWindowInSeconds"] >= 1


def test_consumed_queues_redrive_to_a_dlq_and_outlast_their_consumer(any_synth):
    queues = any_synth.of_type("AWS::SQS::Queue")
    for mapping in _event_sources(any_synth).values():
        queue = queues[ref_id(mapping["Properties"]["EventSourceArn"])]["Properties"]
        function = any_synth.resources[ref_id(mapping["Properties"]["FunctionName"])]["Properties"]
        redrive = queue["RedrivePolicy"]
        assert redrive["maxReceiveCount"] >= 5
        dlq = ref_id(redrive["deadLetterTargetArn"])
        assert dlq in queues and "RedrivePolicy" not in queues[dlq]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


def test_every_queue_is_encrypted_and_tls_only(any_synth):
    queues = any_synth.of_type("AWS::SQS::Queue")
    tls_only = set()
    for policy in any_synth.of_type("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                tls_only |= {ref_id(q) for q in policy["Properties"]["Queues"]}
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id
        assert logical_id in tls_only, logical_id


def test_only_the_mailer_may_send_email(any_synth):
    for name in any_synth.stack.functions:
        ses = {a for a in _actions(any_synth, name) if a.startswith("ses:")}
        assert ses == ({"ses:SendEmail", "ses:SendRawEmail"} if name == "Mailer" else set()), name
    # And no other role in the stack either.
    mailer_role = _role_id(any_synth, "Mailer")
    for logical_id, policy in any_synth.of_type("AWS::IAM::Policy").items():
        roles = {ref_id(r) for r in policy["Properties"]["Roles"]}
        if mailer_role not in roles:
            assert not {
                a
                for a in actions_of(policy["Properties"]["PolicyDocument"]["Statement"])
                if a.startswith("ses:")
            }, logical_id


def test_the_mailer_sends_only_from_its_identity_and_configuration_set(default_synth):
    statements = policy_statements(default_synth.resources, _role_id(default_synth, "Mailer"))
    (send,) = [s for s in statements if "ses:SendEmail" in actions_of([s])]
    mail = default_synth.stack.node.find_child("Mail")
    assert referenced_ids(send["Resource"]) == {
        default_synth.logical_id(mail.identity),
        default_synth.logical_id(mail.configuration_set),
    }
    resources = str(send["Resource"])
    assert ":identity/" in resources and ":configuration-set/" in resources
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": "noreply@example.com"}}


def test_ses_identity_and_configuration_set(default_synth, full_synth):
    (identity,) = default_synth.of_type("AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == "noreply@example.com"
    assert ref_id(identity["Properties"]["ConfigurationSetAttributes"]["ConfigurationSetName"]) in (
        default_synth.of_type("AWS::SES::ConfigurationSet")
    )
    (domain,) = full_synth.of_type("AWS::SES::EmailIdentity").values()
    assert domain["Properties"]["EmailIdentity"] == "example.com"


def test_least_privilege_per_function(default_synth):
    control = _actions(default_synth, "ControlPlane")
    data_plane = _actions(default_synth, "DataPlane")
    worker = _actions(default_synth, "Worker")
    mailer = _actions(default_synth, "Mailer")
    # Files live in S3: the control plane serves them, the worker writes batch results.
    assert "s3:PutObject" in control and "s3:DeleteObject" in control
    assert "s3:PutObject" in worker and "s3:DeleteObject" not in worker
    assert not {a for a in data_plane | mailer if a.startswith("s3:")}
    # Only the API functions sign and verify JWTs; the mailer reads no secret at all.
    secrets = default_synth.stack.node.find_child("Secrets")
    jwt_id = default_synth.logical_id(secrets.jwt_secret)
    for name in default_synth.stack.functions:
        statements = policy_statements(default_synth.resources, _role_id(default_synth, name))
        readers = [s for s in statements if jwt_id in referenced_ids(s.get("Resource"))]
        assert bool(readers) == (name in {"ControlPlane", "DataPlane"}), name
    assert not {a for a in mailer if a.startswith("secretsmanager:")}
    # Sending to the queues: the control plane and the worker, never the mailer.
    assert "sqs:SendMessage" in control and "sqs:SendMessage" in worker
    assert "sqs:SendMessage" not in mailer
    assert not any(
        a.endswith("*") and a.count(":") == 1 and a.split(":")[1] == "*" for a in control
    )


def test_only_the_worker_may_send_to_the_batch_dlq_and_it_knows_where_it_is(default_synth):
    stack = default_synth.stack
    dlq = default_synth.logical_id(stack.node.find_child("Batch").queue.dead_letter_queue)
    senders = set()
    for name in stack.functions:
        statements = policy_statements(default_synth.resources, _role_id(default_synth, name))
        for statement in statements:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if "sqs:SendMessage" in actions and dlq in referenced_ids(statement["Resource"]):
                senders.add(name)
    assert senders == {"Worker"}
    worker = default_synth.resources[default_synth.logical_id(stack.functions["Worker"].function)]
    env = worker["Properties"]["Environment"]["Variables"]
    assert ref_id(env["IC_BATCH_QUEUE_DLQ_URL"]) == dlq


def test_webhook_secrets_are_readable_only_where_needed(default_synth):
    stack = default_synth.stack
    secrets = stack.node.find_child("Secrets")
    signing = default_synth.logical_id(secrets.webhook_signing_key)
    ingest = default_synth.logical_id(secrets.webhook_ingest_secrets)
    readers: dict[str, set[str]] = {signing: set(), ingest: set()}
    for name in stack.functions:
        for statement in policy_statements(default_synth.resources, _role_id(default_synth, name)):
            for secret_id in readers:
                if secret_id in referenced_ids(statement["Resource"]):
                    readers[secret_id].add(name)
    assert readers[signing] == {"ControlPlane", "Worker"}
    assert readers[ingest] == {"ControlPlane"}
