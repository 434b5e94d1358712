"""moto's DynamoDB expressions parsed once, not on every call: the local AWS's CPU per request.

moto 5.2.5 parses a transaction item's `UpdateExpression` twice and its `ConditionExpression`
three times (once to validate the request, once to check the transaction, once to apply the
item), deep-copies the parsed update tree for its validator, and runs ten validator passes over
the copy, each rebuilding its dispatch table at every node. On a governed request (the same dozen
expressions with different values every time) that was about two thirds of the CPU moto spends
on the admission and settle transactions. This is a fix to the local AWS, not to the gateway.

`install()` changes only pure steps, so every answer and every error stays moto's:

- `UpdateExpressionParser.make(expression)` is memoized by the expression string (bounded): the
  tree is a function of the string alone. moto only reads the tree it returns (`find_clauses`);
  its validator works on a copy. A parse error is raised every time.
- the validator's copy of a memoized tree is made by `clone`, a copy specialized to the trees this
  parser builds: a node's state is `type`, `children` (nodes, or str/int/float/bool/None leaves)
  and `parent` (the node above it). `_plain` checks a tree has exactly that shape (no node twice,
  no other attribute) before `clone` may copy it; any other tree is copied by `copy.deepcopy`, as
  moto does, and so is everything else moto's validators copy.
- the validator's first three passes (`STATIC_PASSES`: at most one clause of each kind, no
  overlapping paths, no key attribute updated) read the tree and, for the last two, the
  `ExpressionAttributeNames` and the table's key attributes; each raises or returns the tree as it
  was. Each runs until it has passed once for what it reads, then is skipped for the same input;
  a failure raises again every time. The seven passes that read values and the item always run.
- `DepthFirstTraverser` builds a traverser's `_processing_map()` (class -> its own bound method,
  the same on every call in moto) once per traverser, not once per node it visits.
- `ConditionExpressionParser.parse` is memoized by (expression, names, values) in a small table
  (the three parses of one transaction item hit it), only when the values the condition reads are
  scalars: its tree holds those values, and a map or list could be changed by a later write.

Installed only over the moto version it was checked against (`CHECKED_MOTO_VERSION`);
`uninstall()` puts moto's own back. Tested in `tests/integration/test_moto_expressions.py`
against moto's own code, answer for answer.
"""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

CHECKED_MOTO_VERSION = "5.2.5"
MAX_TREES = 4096  # distinct update expressions kept; the gateway writes a few dozen
MAX_CONDITIONS = 256  # (condition, names, values) kept; a transaction item parses its own 3 times

# The validator's static passes, in moto's order, and whether each reads the names and the key
# attributes (True) or the tree alone (False).
STATIC_PASSES = {
    "ActionCountValidator": False,
    "OverlappingPathsValidator": True,
    "UpdateHashRangeKeyValidator": True,
}
_LEAVES = (str, int, float, bool, type(None))
_SCALARS = frozenset({"S", "N", "B", "BOOL", "NULL"})

_trees: dict[str, Any] = {}  # expression -> its parsed tree
_sources: dict[int, tuple[Any, str, bool]] = {}  # id(tree) -> (tree, expression, plain)
_passed: set[tuple[Any, ...]] = set()  # (pass, what it read) that passed
_conditions: dict[tuple[Any, ...], tuple[Any, list[str], list[str]]] = {}
_moto: dict[str, Any] = {}  # moto's own functions, while installed
_node_kinds: dict[type, bool] = {}  # class -> is it a moto AST Node


def _modules() -> tuple[Any, Any, Any, Any]:
    """moto's (comparisons, ast_nodes, expressions, validators) modules (untyped in moto)."""
    load = importlib.import_module
    return (
        load("moto.dynamodb.comparisons"),
        load("moto.dynamodb.parsing.ast_nodes"),
        load("moto.dynamodb.parsing.expressions"),
        load("moto.dynamodb.parsing.validators"),
    )


def install() -> bool:
    """Patch moto's expression handling in this process; True if the patch is in place."""
    import moto

    comparisons, ast_nodes, expressions, validators = _modules()
    if _moto:
        return True
    if moto.__version__ != CHECKED_MOTO_VERSION:
        return False
    parser = expressions.UpdateExpressionParser
    validator = validators.UpdateExpressionValidator
    traverser = ast_nodes.DepthFirstTraverser
    condition = comparisons.ConditionExpressionParser
    _moto.update(
        make=parser.__dict__["make"],
        deepcopy=validators.deepcopy,
        init=validator.__init__,
        validate=validator.validate,
        nodes_to_be_processed=traverser.nodes_to_be_processed,
        process=traverser.process,
        traverse_node_recursively=traverser.traverse_node_recursively,
        condition_parse=condition.parse,
    )
    parser.make = classmethod(lambda cls, expression_str: make(expression_str))
    validators.deepcopy = _validator_copy
    validator.__init__ = _validator_init
    validator.validate = _validate
    traverser.nodes_to_be_processed = lambda self: _processing(self)[1]
    traverser.process = _process
    traverser.traverse_node_recursively = _traverse_node_recursively
    condition.parse = _condition_parse
    return True


def uninstall() -> None:
    """Put moto's own functions back and forget what was memoized (for tests)."""
    comparisons, ast_nodes, expressions, validators = _modules()
    if not _moto:
        return
    expressions.UpdateExpressionParser.make = _moto["make"]
    validators.deepcopy = _moto["deepcopy"]
    validators.UpdateExpressionValidator.__init__ = _moto["init"]
    validators.UpdateExpressionValidator.validate = _moto["validate"]
    ast_nodes.DepthFirstTraverser.nodes_to_be_processed = _moto["nodes_to_be_processed"]
    ast_nodes.DepthFirstTraverser.process = _moto["process"]
    ast_nodes.DepthFirstTraverser.traverse_node_recursively = _moto["traverse_node_recursively"]
    comparisons.ConditionExpressionParser.parse = _moto["condition_parse"]
    _moto.clear()
    forget()


def forget() -> None:
    """Drop everything memoized."""
    _trees.clear()
    _sources.clear()
    _passed.clear()
    _conditions.clear()


def make(expression: str) -> Any:
    """The parsed tree of `expression`, parsed once (a parse error is raised every time)."""
    tree = _trees.get(expression)
    if tree is None:
        tree = _moto["make"].__func__(_moto_parser(), expression)
        if len(_trees) >= MAX_TREES:
            forget()
        _trees[expression] = tree
        _sources[id(tree)] = (tree, expression, _plain(tree))
    return tree


def _moto_parser() -> Any:
    return _modules()[2].UpdateExpressionParser


def _source(tree: Any) -> tuple[Any, str, bool] | None:
    """(tree, expression, plain) if `tree` is one `make` memoized."""
    entry = _sources.get(id(tree))
    return entry if entry is not None and entry[0] is tree else None


def _validator_init(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
    _moto["init"](self, expression, *args, **kwargs)
    self.ic_source = expression  # the tree it was given, before its copy


def _validator_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy` for moto's validators, with `clone` for the memoized plain trees."""
    entry = _source(value) if memo is None else None
    if entry is not None and entry[2]:
        return clone(value)
    return copy.deepcopy(value, memo)


def _validate(self: Any) -> Any:
    """moto's `UpdateExpressionValidator.validate`, each static pass skipped once it has passed
    for what it reads."""
    entry = _source(getattr(self, "ic_source", None))
    passes = self.processors
    static = passes[: len(STATIC_PASSES)]
    if entry is None or tuple(type(p).__name__ for p in static) != tuple(STATIC_PASSES):
        return _moto["validate"](self)
    expression = entry[1]
    try:
        names = tuple(sorted((self.expression_attribute_names or {}).items()))
        keys = tuple(self.table.table_key_attrs)
        hash((names, keys))
    except TypeError:  # not a plain string mapping: moto's own way
        return _moto["validate"](self)
    tree = self.node_to_validate
    for name, check in zip(STATIC_PASSES, static, strict=True):
        key = (name, expression, *((names, keys) if STATIC_PASSES[name] else ()))
        if key not in _passed:
            tree = check.traverse(tree)
            _passed.add(key)
    for later in passes[len(STATIC_PASSES) :]:
        tree = later.traverse(tree)
    return tree


def clone(node: Any, parent: Any = None) -> Any:
    """A deep copy of a plain tree (`_plain`): new nodes, the same leaves, parent links inside."""
    new = object.__new__(type(node))
    state = node.__dict__.copy()
    state["parent"] = parent
    children = state["children"]
    if children is not None:
        state["children"] = [
            child if type(child) in _LEAVES else clone(child, new) for child in children
        ]
    new.__dict__ = state
    return new


def _plain(root: Any) -> bool:
    """True if `root` is a tree `clone` copies exactly as `copy.deepcopy` would."""
    Node = _modules()[1].Node

    if not isinstance(root, Node) or root.parent is not None:
        return False
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen or set(vars(node)) != {"type", "children", "parent"}:
            return False
        seen.add(id(node))
        if not isinstance(node.type, str):
            return False
        children = node.children
        if children is None:
            continue
        if type(children) is not list or id(children) in seen:  # deepcopy would share it
            return False
        seen.add(id(children))
        for child in children:
            if isinstance(child, Node):
                if child.parent is not node:
                    return False
                pending.append(child)
            elif type(child) not in _LEAVES:
                return False
    return True


def _processing(traverser: Any) -> tuple[tuple[tuple[type, Any], ...], tuple[type, ...]]:
    """A traverser's `_processing_map()` as (class, processor) pairs and classes, built once."""
    cached = traverser.__dict__.get("ic_processing")
    if cached is None:
        pairs = tuple(traverser._processing_map().items())
        cached = traverser.__dict__["ic_processing"] = (pairs, tuple(k for k, _ in pairs))
    return cached  # type: ignore[no-any-return]


def _processor(traverser: Any, kind: type) -> Any:
    """The processor `process` picks for a node of class `kind` (None: none), found once per
    class: `isinstance` against moto's ABC node classes is most of a traversal's cost."""
    chosen = traverser.__dict__.get("ic_chosen")
    if chosen is None:
        chosen = traverser.__dict__["ic_chosen"] = {}
    if kind not in chosen:
        chosen[kind] = next(
            (processor for key, processor in _processing(traverser)[0] if issubclass(kind, key)),
            None,
        )
    return chosen[kind]


def _process(self: Any, node: Any) -> Any:
    """moto's `DepthFirstTraverser.process`: the first processor whose class the node is."""
    processor = _processor(self, type(node))
    return None if processor is None else processor(node)


def _is_node(kind: type) -> bool:
    known = _node_kinds.get(kind)
    if known is None:
        known = _node_kinds[kind] = issubclass(kind, _modules()[1].Node)
    return known


def _processes(traverser: Any, kind: type) -> bool:
    """`isinstance(node, traverser.nodes_to_be_processed())` for a node of class `kind`, once per
    class (the classes are the traverser's map's, the same on every call)."""
    known = traverser.__dict__.get("ic_processes")
    if known is None:
        known = traverser.__dict__["ic_processes"] = {}
    if kind not in known:
        known[kind] = issubclass(kind, traverser.nodes_to_be_processed())
    return known[kind]  # type: ignore[no-any-return]


def _traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
    """moto's `DepthFirstTraverser.traverse_node_recursively` with its class tests made once per
    class (`_is_node`, `_processor`); the same visits in the same order."""
    if _is_node(type(node)):
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        if _processes(self, type(node)):
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
    return node


def _condition_parse(self: Any) -> Any:
    """moto's `ConditionExpressionParser.parse`, memoized when the values it reads are scalars."""
    expression = self.condition_expression
    if not expression:
        return _moto["condition_parse"](self)
    names = self.expression_attribute_names or {}
    values = self.expression_attribute_values or {}
    try:
        key = (
            expression,
            tuple(sorted(names.items())),
            json.dumps(values, sort_keys=True, separators=(",", ":")),
        )
        hash(key)  # a name that is not a string (a raw request) cannot key the memo
    except (TypeError, ValueError):  # or a value JSON cannot write: moto's own way
        return _moto["condition_parse"](self)
    hit = _conditions.get(key)
    if hit is None:
        op = _moto["condition_parse"](self)
        found = self.expr_attr_values_found
        if all(set(values.get(name) or {"M": None}) <= _SCALARS for name in found):
            if len(_conditions) >= MAX_CONDITIONS:
                _conditions.clear()
            _conditions[key] = (op, list(self.expr_attr_names_found), list(found))
        return op
    op, names_found, values_found = hit
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return op
