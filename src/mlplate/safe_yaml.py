"""YAML from files anyone can change (answers, presets, .copier-answers.yml), read safely.

A "billion laughs" document nests aliases so that a few hundred bytes expand to billions of
nodes once a consumer walks them (rendering, str(), comparisons): PyYAML builds the shared
structure quickly and the memory blows up later, far from the read. Here the document is
composed first, its expanded size counted on the node graph (shared nodes counted once per
use, without expanding them), and only a document under the limits is constructed.
"""

from __future__ import annotations

from typing import Any

from mlplate.errors import MlplateError

MAX_BYTES = 1_000_000  # an answers file or preset is a few kilobytes
MAX_NODES = 100_000  # after alias expansion


def _expanded_size(node: Any, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """The number of nodes ``node`` stands for once every alias is expanded."""
    import yaml

    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise ValueError("an alias refers to a node that contains it")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, sizes, open_nodes)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            size += _expanded_size(name, sizes, open_nodes)
            size += _expanded_size(value, sizes, open_nodes)
            if size > MAX_NODES:
                break
    open_nodes.discard(key)
    sizes[key] = size
    return size


def load_yaml(text: str, *, origin: str, fix: str) -> Any:
    """Parse ``text`` (a YAML document); refuse a document above MAX_BYTES or one whose aliases
    expand beyond MAX_NODES. ``origin`` names the file and ``fix`` says what to do, in errors.
    Malformed YAML raises yaml.YAMLError, for the caller's own message."""
    import yaml

    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise MlplateError(f"{origin} is larger than {MAX_BYTES // 1000} KB; {fix}")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            size = _expanded_size(node, {}, set())
        except ValueError as error:
            raise MlplateError(f"{origin}: {error}; {fix}") from None
        if size > MAX_NODES:
            raise MlplateError(
                f"{origin} expands (through YAML aliases) to more than {MAX_NODES:,} values; {fix}"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()
