"""params.yaml and the data contract, read with limits: a pull request can change them.

A YAML "billion laughs" nests aliases so that a few hundred bytes expand to billions of values
once something walks them (the parameters' hash, DVC's own parser). The document is composed
first and its expanded size counted on the node graph, without expanding it; only a document
under the limits is constructed. (mlplate's generator applies the same rule to answers files.)
"""

from __future__ import annotations

from typing import Any

import yaml

from mlplate_runtime.errors import ProjectError

MAX_BYTES = 10_000_000
MAX_NODES = 1_000_000  # after alias expansion: far above any real params.yaml or contract


def _expanded(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise ValueError("an alias refers to a node that contains it")
    open_nodes.add(key)
    size = 1
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    for child in children:
        size += _expanded(child, sizes, open_nodes)
        if size > MAX_NODES:
            break
    open_nodes.discard(key)
    sizes[key] = size
    return size


def load_yaml(text: str, origin: str) -> Any:
    """The document in ``text``; ProjectError for one too large or expanding too far, and
    yaml.YAMLError for malformed YAML (the caller words that)."""
    if len(text) > MAX_BYTES:
        raise ProjectError(f"{origin} is larger than {MAX_BYTES // 1_000_000} MB")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            size = _expanded(node, {}, set())
        except ValueError as error:
            raise ProjectError(f"{origin}: {error}") from None
        if size > MAX_NODES:
            raise ProjectError(
                f"{origin} expands (through YAML aliases) to more than {MAX_NODES:,} values"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()
