"""The local AWS's expressions parsed once (`inference_core.local.moto_expressions`).

A corpus of UpdateItem and TransactWriteItems calls (the shapes the gateway writes, every clause
kind, and the errors moto raises) runs three times over moto in-process: under moto's own code,
then twice under the patch (the first run fills the memos, the second is answered from them), each
run on a fresh backend. The outcomes (the item after each call, or the error code, message and
cancellation reasons) must be the same all three times, and the tests also state the outcome
itself. Then the parts one by one: the static-pass memo keyed by what it reads, conditions on a
map value never memoized, `clone` equal to `copy.deepcopy`, the memo bounds, the version check and
`uninstall()`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from inference_core.local import moto_expressions

# moto's parsing modules (untyped): comparisons, ast_nodes, expressions, validators.
comparisons, ast_nodes, expressions, validators = moto_expressions._modules()

REGION = "us-east-1"
Outcome = dict[str, Any]
Call = dict[str, Any]


@pytest.fixture(autouse=True)
def _patch_state_restored() -> Iterator[None]:
    """Each test starts with moto's own code and leaves the patch as it found it (the session may
    have installed it globally, e.g. through our moto server)."""
    was_installed = bool(moto_expressions._moto)
    moto_expressions.uninstall()
    yield
    moto_expressions.uninstall()
    if was_installed:
        assert moto_expressions.install()


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


SEED: dict[str, Any] = {
    "pk": {"S": "a"},
    "n": _n(5),
    "s": {"S": "text"},
    "g": {"S": "on"},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [_n(1), _n(2), _n(3)]},
    "m": {"M": {"a": {"M": {"b": _n(1), "c": {"S": "keep"}}}, "d": {"S": "d"}}},
    "rq": {"M": {"7": _n(2), "6": _n(1), "5": _n(4)}},
    "tk": {"M": {"7": _n(10)}},
    "sp": {"M": {}},
    "ls": {"M": {"old": {"M": {"x": _n(1)}}}},
}

# The admission's update and condition (db/admission.py), with a guard like a team's.
ADMISSION = {
    "UpdateExpression": "SET #rq.#m = if_not_exists(#rq.#m, :z) + :one, "
    "#tk.#m = if_not_exists(#tk.#m, :z) + :tok, #sp.#p = if_not_exists(#sp.#p, :z) + :cost, "
    "#ls.#rid = :lease REMOVE #rq.#m1, #tk.#m1, #rq.#m2, #ls.#r0",
    "ConditionExpression": "attribute_exists(#pk) AND (#g = :on) "
    "AND (attribute_not_exists(#rq.#m) OR #rq.#m < :rpm) AND attribute_exists(#ls.#r0)",
    "ExpressionAttributeNames": {
        "#pk": "pk",
        "#g": "g",
        "#rq": "rq",
        "#tk": "tk",
        "#sp": "sp",
        "#ls": "ls",
        "#m": "7",
        "#m1": "6",
        "#m2": "5",
        "#p": "2026-12",
        "#rid": "lease-1",
        "#r0": "old",
    },
    "ExpressionAttributeValues": {
        ":z": _n(0),
        ":one": _n(1),
        ":tok": _n(30),
        ":cost": {"N": "0.25"},
        ":on": {"S": "on"},
        ":rpm": _n(60),
        ":lease": {"M": {"x": _n(99), "c": {"N": "0.25"}, "p": {"S": "2026-12"}}},
    },
}


def _call(
    update: str,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    condition: str | None = None,
    pk: str = "a",
) -> Call:
    call: Call = {"TableName": "t", "Key": {"pk": {"S": pk}}, "UpdateExpression": update}
    if names:
        call["ExpressionAttributeNames"] = names
    if values:
        call["ExpressionAttributeValues"] = values
    if condition:
        call["ConditionExpression"] = condition
    return call


V = {":v": {"S": "new"}}
GUARD = "attribute_exists(#pk) AND (#g = :v AND (attribute_not_exists(#x) OR #x > :n))"

# (name, call): each runs on a fresh copy of SEED.
CORPUS: list[tuple[str, Call]] = [
    ("admission", {"TableName": "t", "Key": {"pk": {"S": "a"}}, **ADMISSION}),
    ("counter", _call("SET #n = #n + :one", {"#n": "n"}, {":one": _n(1)})),
    ("minus", _call("SET n = n - :one", None, {":one": _n(2)})),
    ("if_not_exists new", _call("SET #x = if_not_exists(#x, :z) + :one", {"#x": "x"},
                                {":z": _n(0), ":one": _n(1)})),
    ("list_append end", _call("SET l = list_append(l, :more)", None,
                              {":more": {"L": [_n(4)]}})),
    ("list_append front", _call("SET l = list_append(:more, l)", None,
                                {":more": {"L": [{"S": "first"}]}})),
    ("nested map", _call("SET #m.#a.#b = :v", {"#m": "m", "#a": "a", "#b": "b"}, V)),
    ("new map entry", _call("SET #m.#a.#e = :v, #m.#f = :v",
                            {"#m": "m", "#a": "a", "#e": "e", "#f": "f"}, V)),
    ("list index", _call("SET l[1] = :v", None, V)),
    ("list index past end", _call("SET l[7] = :v", None, V)),
    ("remove nested and indexes", _call("REMOVE #m.#a.#b, l[0], l[2]",
                                        {"#m": "m", "#a": "a", "#b": "b"})),
    ("remove top", _call("REMOVE s, #g", {"#g": "g"})),
    ("add numbers and sets", _call("ADD #n :one, ss :more, ns :nums, fresh :one", {"#n": "n"},
                                   {":one": _n(3), ":more": {"SS": ["z"]},
                                    ":nums": {"NS": ["2", "9"]}})),
    ("delete from sets", _call("DELETE ss :x, ns :one", None,
                               {":x": {"SS": ["x"]}, ":one": {"NS": ["1"]}})),
    ("every clause", _call("SET #a = :v, l[0] = :v REMOVE #m.#d ADD n :one DELETE ss :x",
                           {"#a": "a", "#m": "m", "#d": "d"},
                           {":v": {"S": "new"}, ":one": _n(1), ":x": {"SS": ["y"]}})),
    ("guard passes", _call("SET #n = :n2", {"#pk": "pk", "#g": "g", "#x": "x", "#n": "n"},
                           {":v": {"S": "on"}, ":n": _n(1), ":n2": _n(0)}, GUARD)),
    ("guard fails", _call("SET #n = :n2", {"#pk": "pk", "#g": "g", "#x": "n", "#n": "n"},
                          {":v": {"S": "on"}, ":n": _n(9), ":n2": _n(0)}, GUARD)),
    ("guard on a missing item", _call("SET #n = :n2", {"#pk": "pk", "#g": "g", "#x": "x",
                                                      "#n": "n"},
                                      {":v": {"S": "on"}, ":n": _n(1), ":n2": _n(0)}, GUARD,
                                      pk="missing")),
    ("creates an item", _call("SET #n = if_not_exists(#n, :z) + :one", {"#n": "n"},
                              {":z": _n(0), ":one": _n(1)}, "attribute_not_exists(pk)",
                              pk="new")),
    # errors
    ("two SET clauses", _call("SET a = :v SET b = :v", None, V)),
    ("two REMOVE clauses", _call("REMOVE a REMOVE b")),
    ("overlapping paths", _call("SET #m.#a = :v, #m.#a.#b = :v",
                                {"#m": "m", "#a": "a", "#b": "b"}, V)),
    ("same path twice", _call("SET #x = :v, #y = :v", {"#x": "s", "#y": "s"}, V)),
    ("updates the key", _call("SET pk = :v", None, V)),
    ("updates the key by name", _call("SET #k = :v", {"#k": "pk"}, V)),
    ("removes the key", _call("REMOVE pk")),
    ("name not defined", _call("SET #nope = :v", None, V)),
    ("value not defined", _call("SET s = :nope, g = :v", None, V)),
    ("name unused", _call("SET s = :v", {"#u": "u"}, V)),
    ("syntax error", _call("SET s = = :v", None, V)),
    ("unknown clause", _call("PUT s = :v", None, V)),
    ("ADD to a string", _call("ADD s :one", None, {":one": _n(1)})),
    ("plus a string", _call("SET n = n + :v", None, V)),
    ("list_append to a number", _call("SET n = list_append(n, :more)", None,
                                      {":more": {"L": [_n(4)]}})),
    ("missing operand", _call("SET s = nothere + :one", None, {":one": _n(1)})),
    ("missing map on the path", _call("SET #q.#m = :v", {"#q": "q", "#m": "7"}, V)),
    ("condition fails", _call("SET s = :v", None, {":v": {"S": "new"}, ":lim": _n(1)},
                              "n < :lim")),
    ("condition syntax error", _call("SET s = :v", None, V, "s = = :v")),
]  # fmt: skip


def _create_table(client: Any) -> None:
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _error(exc: ClientError) -> Outcome:
    return {
        "code": exc.response["Error"]["Code"],
        "message": exc.response["Error"]["Message"],
        "reasons": exc.response.get("CancellationReasons"),
        "old": exc.response.get("Item"),
    }


def _raised(exc: Exception) -> Outcome:
    return {"code": "raised", "message": f"{type(exc).__name__}: {exc}"}


def _items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName="t")["Items"], key=lambda item: item["pk"]["S"])


def _update_item(client: Any, call: Call) -> Outcome:
    try:
        client.update_item(**call, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        return _error(exc) | {"items": _items(client)}
    except Exception as exc:  # moto's own bugs surface so (a 500 from its server)
        return _raised(exc) | {"items": _items(client)}
    return {"code": None, "items": _items(client)}


def _transact(client: Any, call: Call) -> Outcome:
    """The call as a transaction item, with a Put that lands only if the transaction does."""
    items = [
        {"Update": call | {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "other"}, "put": {"S": "yes"}}}},
    ]
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        return _error(exc) | {"items": _items(client)}
    except Exception as exc:  # moto's own bugs surface so (a 500 from its server)
        return _raised(exc) | {"items": _items(client)}
    return {"code": None, "items": _items(client)}


def _run(calls: list[Call], send: Callable[[Any, Call], Outcome]) -> list[Outcome]:
    """Each call on a fresh copy of the seed item, in a fresh backend."""
    outcomes = []
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _create_table(client)
        for call in calls:
            for item in _items(client):
                client.delete_item(TableName="t", Key={"pk": item["pk"]})
            client.put_item(TableName="t", Item=SEED)
            outcomes.append(send(client, call))
    return outcomes


def _memoized() -> dict[str, Any]:
    """What the memos hold, by identity (a second run answered from them keeps every entry)."""
    return {
        "trees": {e: id(t) for e, t in moto_expressions._trees.items()},
        "conditions": {k: id(v[0]) for k, v in moto_expressions._conditions.items()},
        "passed": set(moto_expressions._passed),
    }


def _moto_then_ours_twice(
    named: list[tuple[str, Call]], send: Callable[[Any, Call], Outcome]
) -> dict[str, Outcome]:
    """The outcomes by name, checked equal under moto's own code, our first run and our
    memoized run (which must parse nothing again)."""
    calls = [call for _, call in named]
    own = _run(calls, send)
    assert moto_expressions.install()
    first = _run(calls, send)
    memoized = _memoized()
    assert memoized["trees"] and memoized["passed"] and memoized["conditions"]
    second = _run(calls, send)
    assert _memoized() == memoized, "the second run parsed again"
    for (name, _), a, b, c in zip(named, own, first, second, strict=True):
        assert b == a, f"{name}: the patch's first call differs from moto's own"
        assert c == a, f"{name}: the memoized call differs from moto's own"
    return {name: outcome for (name, _), outcome in zip(named, own, strict=True)}


def _item(outcome: Outcome, pk: str = "a") -> dict[str, Any]:
    return next(i for i in outcome["items"] if i["pk"]["S"] == pk)


def _code_and_message(outcome: Outcome) -> tuple[str, str]:
    return outcome["code"], outcome["message"]


def test_update_item_answers_as_moto_does_parsed_or_memoized() -> None:
    out = _moto_then_ours_twice(CORPUS, _update_item)

    admitted = _item(out["admission"])
    assert admitted["rq"] == {"M": {"7": _n(3)}}
    assert admitted["tk"] == {"M": {"7": _n(40)}}
    assert admitted["sp"] == {"M": {"2026-12": {"N": "0.25"}}}
    assert set(admitted["ls"]["M"]) == {"lease-1"}
    assert _item(out["counter"])["n"] == _n(6)
    assert _item(out["if_not_exists new"])["x"] == _n(1)
    assert _item(out["list_append end"])["l"]["L"][-1] == _n(4)
    assert _item(out["list_append front"])["l"]["L"][0] == {"S": "first"}
    assert _item(out["nested map"])["m"]["M"]["a"]["M"]["b"] == {"S": "new"}
    assert _item(out["list index"])["l"]["L"] == [_n(1), {"S": "new"}, _n(3)]
    assert _item(out["remove nested and indexes"])["l"]["L"] == [_n(2)]
    assert "b" not in _item(out["remove nested and indexes"])["m"]["M"]["a"]["M"]
    added = _item(out["add numbers and sets"])
    assert (added["n"], added["fresh"], sorted(added["ss"]["SS"])) == (
        _n(8),
        _n(3),
        ["x", "y", "z"],
    )
    assert _item(out["delete from sets"])["ss"] == {"SS": ["y"]}
    every = _item(out["every clause"])
    assert (every["a"], every["n"], every["ss"]) == ({"S": "new"}, _n(6), {"SS": ["x"]})
    assert _item(out["guard passes"])["n"] == _n(0)
    assert _item(out["creates an item"], "new")["n"] == _n(1)

    for name in ("guard fails", "guard on a missing item", "condition fails"):
        assert out[name]["code"] == "ConditionalCheckFailedException", name
        assert out[name]["items"] == out["guard fails"]["items"]  # nothing written
    assert out["guard fails"]["old"]["n"] == _n(5)  # ALL_OLD
    validation = {
        "two SET clauses": 'The "SET" section can only be used once',
        "two REMOVE clauses": 'The "REMOVE" section can only be used once',
        "overlapping paths": "Two document paths overlap",
        "same path twice": "Two document paths overlap",
        "updates the key": "Cannot update attribute pk. This attribute is part of the key",
        "updates the key by name": "Cannot update attribute pk",
        "removes the key": "Cannot update attribute pk",
        "value not defined": "An expression attribute value used in expression is not defined",
        "name unused": "unused in expressions: keys: {#u}",
        "syntax error": "Invalid UpdateExpression: Syntax error",
        "unknown clause": "Invalid UpdateExpression: Syntax error",
        "ADD to a string": "An operand in the update expression has an incorrect data type",
        "plus a string": "Incorrect operand type for operator or function; operator or function: +",
        "list_append to a number": "Incorrect operand type for operator or function",
        "missing operand": "The provided expression refers to an attribute that does not exist",
        "missing map on the path": "The document path provided in the update expression is "
        "invalid for update",
    }
    for name, message in validation.items():
        code, text = _code_and_message(out[name])
        assert code == "ValidationException" and message in text, (name, text)
        assert out[name]["items"] == out["guard fails"]["items"], name  # nothing written
    # moto's own answers to these are its exceptions (a 500 from its server), and so are ours.
    assert _code_and_message(out["name not defined"]) == ("raised", "KeyError: '#nope'")
    assert _code_and_message(out["condition syntax error"]) == (
        "raised",
        "ValueError: Bad comparison s = =",
    )


def test_transact_write_items_answers_as_moto_does_parsed_or_memoized() -> None:
    out = _moto_then_ours_twice(CORPUS, _transact)

    admitted = _item(out["admission"])
    assert admitted["rq"] == {"M": {"7": _n(3)}}
    assert _item(out["admission"], "other")["put"] == {"S": "yes"}  # the whole transaction
    assert _item(out["every clause"])["ss"] == {"SS": ["x"]}
    for name in ("guard fails", "condition fails"):
        cancelled = out[name]
        assert cancelled["code"] == "TransactionCanceledException", name
        assert [r["Code"] for r in cancelled["reasons"]] == ["ConditionalCheckFailed", "None"]
        assert cancelled["reasons"][0]["Item"]["n"] == _n(5)  # ALL_OLD
        assert "other" not in [i["pk"]["S"] for i in cancelled["items"]]  # rolled back
    for name in ("two SET clauses", "overlapping paths", "updates the key by name",
                 "value not defined", "syntax error", "ADD to a string"):  # fmt: skip
        assert out[name]["code"] == "ValidationException", name
        assert "other" not in [i["pk"]["S"] for i in out[name]["items"]], name
    assert "attribute value: :nope" in out["value not defined"]["message"]
    undefined = out["name not defined"]  # moto's own: None["#nope"], a cancellation reason
    assert [r["Code"] for r in undefined["reasons"]] == ["TypeError", "None"]
    assert "other" not in [i["pk"]["S"] for i in undefined["items"]]


def test_the_static_passes_are_remembered_per_names_and_key() -> None:
    """The same expression, once with a name that is not the key, once with one that is: the
    first passing must not let the second through (nor the other way round)."""
    harmless = _call("SET #k = :v", {"#k": "s"}, V)
    key = _call("SET #k = :v", {"#k": "pk"}, V)
    overlap = _call("SET #k = :v, #j = :v", {"#k": "s", "#j": "s"}, V)
    apart = _call("SET #k = :v, #j = :v", {"#k": "s", "#j": "g"}, V)
    calls = [harmless, key, harmless, key, apart, overlap, apart, overlap]
    for send in (_update_item, _transact):
        own = _run(calls, send)
        assert moto_expressions.install()
        assert _run(calls, send) == own
        assert _run(calls[::-1], send) == own[::-1]
        moto_expressions.uninstall()
        assert [o["code"] for o in own] == [None, "ValidationException"] * 4
        assert "Cannot update attribute pk" in own[1]["message"]
        assert "Two document paths overlap" in own[5]["message"]


def test_the_same_update_over_a_table_with_another_key_is_checked_again() -> None:
    """The key-attribute pass reads the table's key: a pass on one table is not one on another."""

    def run() -> list[Outcome]:
        outcomes = []
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            _create_table(client)
            client.create_table(
                TableName="u",
                KeySchema=[{"AttributeName": "s", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "s", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            for table, key in (("t", "pk"), ("u", "s"), ("t", "pk"), ("u", "s")):
                call = _call("SET s = :v", None, V) | {"TableName": table, "Key": {key: V[":v"]}}
                outcomes.append(_update_item(client, call))
        return outcomes

    own = run()
    assert moto_expressions.install()
    assert run() == own
    assert [o["code"] for o in own] == [None, "ValidationException"] * 2


def _conditions_for(expression: str) -> list[tuple[Any, ...]]:
    return [key for key in moto_expressions._conditions if key[0] == expression]


def test_a_condition_on_a_map_value_is_not_memoized_and_answers_after_the_map_changes() -> None:
    on_map = "#m = :mv"
    on_scalar = "#g = :on"
    names = {"#m": "m", "#g": "g", "#c": "n"}
    values = {":mv": {"M": {"d": {"S": "d"}}}, ":on": {"S": "on"}, ":one": _n(1)}
    count = _call("SET #c = #c + :one", names, values, f"{on_map} AND {on_scalar}")
    change = _call("SET #m.#d = :x", {"#m": "m", "#d": "d"}, {":x": {"S": "changed"}})

    def scenario(send: Callable[[Any, Call], Outcome]) -> list[Outcome]:
        outcomes = []
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            _create_table(client)
            client.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": _n(0), "g": {"S": "on"},
                                                 "m": {"M": {"d": {"S": "d"}}}})  # fmt: skip
            for call in (count, count, change, count):
                outcomes.append(send(client, call))
        return outcomes

    for send in (_update_item, _transact):
        own = scenario(send)
        assert moto_expressions.install()
        assert scenario(send) == own
        assert _conditions_for(f"{on_map} AND {on_scalar}") == []
        assert scenario(send) == own
        moto_expressions.uninstall()
        assert [o["code"] for o in own[:3]] == [None, None, None]
        assert own[3]["code"] in ("ConditionalCheckFailedException", "TransactionCanceledException")
        assert _item(own[3])["n"] == _n(2)

    # A scalar condition is memoized (so the check above is not empty), a map one never.
    assert moto_expressions.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _create_table(client)
        client.put_item(TableName="t", Item=SEED)
        scalar = _call("SET #c = #c + :one", {"#g": "g", "#c": "n"},
                       {":on": {"S": "on"}, ":one": _n(1)}, on_scalar)  # fmt: skip
        assert _update_item(client, scalar)["code"] is None
        listed = _call("SET #c = :one", {"#l": "l", "#c": "n"},
                       {":lv": SEED["l"], ":one": _n(1)}, "#l = :lv")  # fmt: skip
        assert _update_item(client, listed)["code"] is None
    assert len(_conditions_for(on_scalar)) == 1
    assert _conditions_for("#l = :lv") == []


def test_a_condition_with_names_the_memo_cannot_key_answers_as_moto_does() -> None:
    """A value JSON cannot write, or a name that is not a string (a raw request), is parsed by
    moto's own code and not kept; the parse answers the same either way."""

    def parse(names: dict[str, Any], values: dict[str, Any]) -> Outcome:
        parser = comparisons.ConditionExpressionParser("#a = :v", names, values)
        try:
            op = parser.parse()
        except Exception as exc:  # the outcome compared is the exception
            return {"error": type(exc).__name__, "message": str(exc)}
        return {"op": type(op).__name__, "found": (parser.expr_attr_names_found,
                                                   parser.expr_attr_values_found)}  # fmt: skip

    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"#a": ["not", "a", "string"]}, {":v": {"S": "x"}}),
        ({"#a": "x"}, {":v": {"B": b"bytes"}}),
        ({"#a": "x"}, {":v": {"S": "x"}}),
    ]
    own = [parse(names, values) for names, values in cases]
    assert moto_expressions.install()
    assert [parse(names, values) for names, values in cases] == own
    assert [parse(names, values) for names, values in cases] == own
    assert [key[1] for key in moto_expressions._conditions] == [(("#a", "x"),)]


# ---- clone ----


def _walk(root: Any) -> Iterator[Any]:
    pending = [root]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(c for c in node.children or [] if isinstance(c, ast_nodes.Node))


def _dump(root: Any) -> Any:
    """A structural dump: node classes, attribute names, leaves (type and value), and every
    reference to a node or a children list as the index of its first visit (sharing shows)."""
    index: dict[int, int] = {}

    def ref(obj: Any) -> Any:
        if id(obj) in index:
            return ("ref", index[id(obj)])
        index[id(obj)] = len(index)
        return None

    def dump(obj: Any) -> Any:
        if obj is None or type(obj) in (str, int, float, bool):
            return (type(obj).__name__, obj)
        seen = ref(obj)
        if seen is not None:
            return seen
        if isinstance(obj, list):
            return ("list", [dump(child) for child in obj])
        if isinstance(obj, ast_nodes.Node):
            state = vars(obj)
            return (
                type(obj).__name__,
                sorted(state),
                obj.type,
                dump(obj.children),
                None if obj.parent is None else index.get(id(obj.parent), "outside"),
            )
        return ("other", repr(obj))

    return dump(root)


def _parsed_corpus() -> list[Any]:
    trees = []
    for _, call in CORPUS:
        try:
            trees.append(expressions.UpdateExpressionParser.make(call["UpdateExpression"]))
        except Exception:  # the syntax errors have no tree
            continue
    return trees


def test_clone_copies_every_parsed_tree_as_deepcopy_does() -> None:
    trees = _parsed_corpus()
    assert len(trees) >= len(CORPUS) - 3
    for tree in trees:
        assert moto_expressions._plain(tree), tree
        cloned = moto_expressions.clone(tree)
        assert _dump(cloned) == _dump(copy.deepcopy(tree)) == _dump(tree)
        original = {id(n) for n in _walk(tree)} | {id(n.children) for n in _walk(tree)}
        for node in _walk(cloned):
            assert id(node) not in original
            assert node.children is None or id(node.children) not in original
            for child in node.children or []:
                if isinstance(child, ast_nodes.Node):
                    assert child.parent is node
        assert cloned.parent is None


def test_plain_refuses_a_shared_node_an_extra_attribute_or_a_foreign_child() -> None:
    def fresh() -> Any:
        return expressions.UpdateExpressionParser.make("SET #a.#b = :v, c = :w REMOVE d")

    assert moto_expressions._plain(fresh())
    shared = fresh()
    actions = shared.children[0].children[0]
    actions.children.append(actions.children[0])  # one node twice
    assert not moto_expressions._plain(shared)
    shared_leaf = fresh()  # a node without children (the "." of a path), twice in its path
    path, dot = next(
        (n, c)
        for n in _walk(shared_leaf)
        for c in n.children or []
        if isinstance(c, ast_nodes.Node) and c.children is None
    )
    path.children.append(dot)
    assert _dump(copy.deepcopy(shared_leaf)) != _dump(moto_expressions.clone(shared_leaf))
    assert not moto_expressions._plain(shared_leaf)
    extra = fresh()
    list(_walk(extra))[3].cached = "something"
    assert not moto_expressions._plain(extra)
    foreign = fresh()
    list(_walk(foreign))[2].children.append({"not": "a leaf"})
    assert not moto_expressions._plain(foreign)
    leaves = fresh()
    first, second = [n for n in _walk(leaves) if type(n).__name__ == "ExpressionAttributeName"][:2]
    first.children = second.children = ["#a"]  # one children list in two nodes
    assert _dump(copy.deepcopy(leaves)) != _dump(moto_expressions.clone(leaves))
    assert not moto_expressions._plain(leaves)
    assert not moto_expressions._plain(fresh().children[0])  # not a root


def test_a_non_plain_tree_is_copied_by_deepcopy_and_answers_as_moto_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(moto_expressions, "_plain", lambda tree: False)
    calls = [c for _, c in CORPUS[:12]]
    own = _run(calls, _update_item)
    assert moto_expressions.install()
    assert _run(calls, _update_item) == own
    assert all(not plain for _, _, plain in moto_expressions._sources.values())
    assert _run(calls, _update_item) == own


# ---- bounds, version, uninstall ----


def test_the_memo_bounds_clear_and_still_answer_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_expressions, "MAX_TREES", 3)
    monkeypatch.setattr(moto_expressions, "MAX_CONDITIONS", 2)
    calls = [c for _, c in CORPUS]
    own = _run(calls, _transact)
    assert moto_expressions.install()
    assert _run(calls, _transact) == own
    assert len(moto_expressions._trees) <= 3 and len(moto_expressions._sources) <= 3
    assert len(moto_expressions._conditions) <= 2
    assert _run(calls, _transact) == own


def _moto_functions() -> dict[str, Any]:
    return {
        "make": expressions.UpdateExpressionParser.__dict__["make"],
        "deepcopy": validators.deepcopy,
        "init": validators.UpdateExpressionValidator.__init__,
        "validate": validators.UpdateExpressionValidator.validate,
        "nodes": ast_nodes.DepthFirstTraverser.nodes_to_be_processed,
        "process": ast_nodes.DepthFirstTraverser.process,
        "traverse": ast_nodes.DepthFirstTraverser.traverse_node_recursively,
        "parse": comparisons.ConditionExpressionParser.parse,
    }


def test_uninstall_puts_moto_own_functions_back() -> None:
    own = _moto_functions()
    assert own["deepcopy"] is copy.deepcopy
    assert own["make"].__func__.__module__ == expressions.__name__
    assert own["validate"].__module__ == validators.__name__
    assert own["init"].__module__ == validators.__name__  # Validator.__init__
    assert {own[k].__module__ for k in ("nodes", "process", "traverse")} == {ast_nodes.__name__}
    assert own["parse"].__module__ == comparisons.__name__
    assert moto_expressions.install()
    patched = _moto_functions()
    assert all(patched[k] is not own[k] for k in own), "install() changed nothing"
    assert moto_expressions.install()  # a second install is a no-op
    assert _moto_functions() == patched
    moto_expressions.make("SET a = :v")
    moto_expressions.uninstall()
    assert all(_moto_functions()[k] is own[k] for k in own)
    assert not (moto_expressions._trees or moto_expressions._sources)
    moto_expressions.uninstall()  # twice is harmless
    assert all(_moto_functions()[k] is own[k] for k in own)


def test_install_refuses_another_moto_version() -> None:
    own = _moto_functions()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto, "__version__", "5.2.6")
        assert moto_expressions.install() is False
        assert all(_moto_functions()[k] is own[k] for k in own)
        assert not moto_expressions._moto
    assert moto.__version__ == moto_expressions.CHECKED_MOTO_VERSION
    assert moto_expressions.install() is True


def test_our_moto_server_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from inference_core.local import moto_server, moto_transactions

    # install_fixes also installs the transactions' fix: left as it was found.
    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items
    )
    monkeypatch.setattr(moto_transactions, "_moto_own", moto_transactions._moto_own)
    moto_server.install_fixes()
    assert expressions.UpdateExpressionParser.make("SET a = :v") is moto_expressions.make(
        "SET a = :v"
    )
    assert set(moto_expressions._moto) == {
        "make",
        "deepcopy",
        "init",
        "validate",
        "nodes_to_be_processed",
        "process",
        "traverse_node_recursively",
        "condition_parse",
    }


def test_conditions_and_filters_of_other_calls_answer_as_moto_does() -> None:
    """The condition memo serves every parse: Put, Delete and ConditionCheck conditions, and the
    filters of Scan and Query."""
    names = {"#g": "g", "#n": "n"}
    scalar = {":on": {"S": "on"}, ":lim": _n(5)}
    on_map = {":mv": SEED["m"]}

    def calls(client: Any) -> list[Outcome]:
        def outcome(send: Callable[[], Any]) -> Outcome:
            try:
                answer = send()
            except ClientError as exc:
                return _error(exc) | {"items": _items(client)}
            return {"items": answer.get("Items", _items(client))}

        put = {"TableName": "t", "Item": SEED | {"pk": {"S": "b"}}}
        guard = {"ExpressionAttributeNames": names, "ExpressionAttributeValues": scalar}
        outcomes = []
        for _ in range(2):  # the second parse of each is a memo hit
            outcomes += [
                outcome(lambda: client.put_item(**put)),
                outcome(lambda: client.put_item(
                    **put, ConditionExpression="#g = :on AND #n >= :lim", **guard)),
                outcome(lambda: client.put_item(
                    **put, ConditionExpression="#g <> :on OR #n < :lim", **guard)),
                outcome(lambda: client.scan(
                    TableName="t", FilterExpression="#g = :on AND #n = :lim", **guard)),
                outcome(lambda: client.scan(
                    TableName="t", FilterExpression="#m = :mv",
                    ExpressionAttributeNames={"#m": "m"}, ExpressionAttributeValues=on_map)),
                outcome(lambda: client.query(
                    TableName="t", KeyConditionExpression="pk = :a",
                    FilterExpression="#n > :lim", ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={":a": {"S": "a"}, ":lim": _n(1)})),
                outcome(lambda: client.transact_write_items(TransactItems=[
                    {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "a"}},
                                        "ConditionExpression": "#g = :on AND #n < :lim",
                                        **guard}},
                ])),
                outcome(lambda: client.delete_item(
                    TableName="t", Key={"pk": {"S": "b"}},
                    ConditionExpression="#g = :on AND #n = :lim", **guard)),
            ]  # fmt: skip
        return outcomes

    def run() -> list[Outcome]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            _create_table(client)
            client.put_item(TableName="t", Item=SEED)
            return calls(client)

    own = run()
    assert moto_expressions.install()
    assert run() == own
    assert moto_expressions._conditions  # the scalar ones were memoized
    assert run() == own
    codes = [o.get("code") for o in own[:8]]
    assert codes == [None, None, "ConditionalCheckFailedException", None, None, None,
                     "TransactionCanceledException", None]  # fmt: skip
    assert [len(o["items"]) for o in own[3:6]] == [2, 2, 1]  # both seeds match; one has pk a


def test_a_traversal_visits_and_picks_processors_as_moto_does() -> None:
    """A traverser whose map holds a class and its base, in that order (the more specific one
    first, as moto's docstring asks), and whose processors replace the nodes they visit: the
    same visits, the same processor per node, the same tree after, with the patch or without."""

    traverser: Any = ast_nodes.DepthFirstTraverser

    class Recorder(traverser):  # type: ignore[misc]
        def __init__(self) -> None:
            self.visits: list[tuple[str, str, int]] = []

        def _processing_map(self) -> dict[type, Callable[[Any], Any]]:
            return {
                ast_nodes.UpdateExpressionSetAction: self.action,
                ast_nodes.ExpressionAttributeName: self.name,
                ast_nodes.Node: self.other,
            }

        def pre_processing_of_child(self, parent_node: Any, child_id: int) -> None:
            self.visits.append(("child", type(parent_node).__name__, child_id))

        def action(self, node: Any) -> Any:
            self.visits.append(("action", node.type, len(node.children)))
            return node

        def name(self, node: Any) -> Any:
            self.visits.append(("name", node.children[0], 0))
            return ast_nodes.ExpressionAttribute(node.children[0].lstrip("#"))

        def other(self, node: Any) -> Any:
            self.visits.append(("other", node.type, len(node.children or [])))
            return node

    def traverse() -> list[Any]:
        results = []
        for tree in _parsed_corpus():
            recorder = Recorder()
            after = recorder.traverse(copy.deepcopy(tree))
            results.append((recorder.visits, _dump(after)))
        return results

    own = traverse()
    assert moto_expressions.install()
    assert traverse() == own
    assert traverse() == own
    kinds = {kind for visits, _ in own for kind, _, _ in visits}
    assert kinds == {"child", "action", "name", "other"}
