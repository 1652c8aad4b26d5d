"""GraphML and GEXF written straight from the graph, one element at a time (pure; no networkx writer).

networkx's writers build the whole XML tree first (6–8 s and hundreds of MB for a 20,000-task plan);
these yield text pieces as they go, so a download streams. Attribute values are made plain as in
:func:`tracker.graph.analysis.export_copy` (dates as ISO text, lists joined, ``None`` dropped), so
``networkx.read_graphml`` reads back exactly ``export_copy(graph)``; ``networkx.read_gexf`` reads the
same nodes and edges (each node's ``label`` is the GEXF label, as networkx writes it).

Both formats declare every attribute with its type before the first element, so each writer makes two
passes over the graph's attribute dicts. Nearly every dict has one of a few shapes (the same names
with values of the same types: a task's, a target's, an "owns" edge's …): the first pass works out
each shape's part in the declarations once, and the second writes every element of a shape through
one prepared template, converting only its values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from xml.sax.saxutils import quoteattr

import networkx as nx

from ..collector import paused_gc
from .analysis import _plain, _plain_attrs

__all__ = ["iter_gexf", "iter_graphml"]

BATCH = 2000  # elements per yielded piece


KINDS = {bool: "boolean", int: "long", float: "double", str: "string"}


def _escape(text: str) -> str:
    """XML text: ``&``, ``<`` and ``>`` escaped (checked first: most values have none)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    """A quoted XML attribute value."""
    text = _escape(text)
    if '"' in text or "\n" in text or "\t" in text or "\r" in text:
        return quoteattr(text)
    return f'"{text}"'


def _text(value: Any) -> str:
    """A value as GEXF attribute text (``quoteattr`` escapes it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value(value: Any) -> str:
    """A plain value as GraphML element text."""
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Shape:
    """The attribute names of one shape of dict, with the value types, and how its values are written."""

    __slots__ = ("by_value", "convert", "names", "template", "types")

    def __init__(self, names: tuple[str, ...], types: tuple[type, ...]) -> None:
        self.names, self.types = names, types
        # A float's kind depends on its value (not finite: text), so such dicts are looked at one by one.
        self.by_value = any(issubclass(t, float) and not issubclass(t, (bool, int, str)) for t in types)
        self.template = ""
        self.convert: tuple[Callable[[Any], str] | None, ...] = ()

    def text(self, head: tuple[Any, ...], data: Mapping[str, Any]) -> str:
        """An element of this shape: its own fields (``head``), then each value written."""
        return self.template.format(*head, *[c(x) for c, x in zip(self.convert, data.values(), strict=True) if c])


def _plain_kind(value: Any) -> str | None:
    """The declared type of a value once made plain (``None``: the value is dropped)."""
    plain = _plain(value)
    return None if plain is None else KINDS.get(type(plain), "string")


def _declare(kinds: dict[str, str], names: Iterable[str], values: Iterable[Any], omit: str | None) -> None:
    """Add names to the declarations: ints mixed with floats are doubles, anything else with text is text."""
    for name, value in zip(names, values, strict=True):
        if name == omit:
            continue
        kind = _plain_kind(value)
        seen = kinds.get(name)
        if kind is None or seen == kind:
            continue
        if seen is None:
            kinds[name] = kind
        elif {seen, kind} == {"long", "double"}:
            kinds[name] = "double"
        else:
            kinds[name] = "string"


def _shapes(items: Iterable[Mapping[str, Any]], omit: str | None = None) -> tuple[dict[str, str], list[_Shape]]:
    """Every attribute name with its type, in the order first met, and each item's shape.

    The same as declaring the names of every item's plain values in turn: a shape met again adds no
    name and no type (except by its floats' values), so only the first dict of each shape is read.
    """
    kinds: dict[str, str] = {}
    shapes: dict[tuple[Any, ...], _Shape] = {}
    of_item = []
    for data in items:
        key = (*data, *map(type, data.values()))  # the names, then their values' types
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = _Shape(tuple(data), tuple(map(type, data.values())))
            _declare(kinds, shape.names, data.values(), omit)
        elif shape.by_value:
            _declare(kinds, shape.names, data.values(), omit)
        of_item.append(shape)
    return kinds, of_item


def _graphml_text(kind: type) -> Callable[[Any], str] | None:
    """How a value of this type is written as GraphML element text (``None``: it is dropped)."""
    if kind is str:
        return _escape
    if kind is int:
        return str
    if kind is type(None):
        return None
    return lambda value: _value(_plain(value))


def _gexf_text(kind: type) -> Callable[[Any], str] | None:
    """How a value of this type is written as a quoted GEXF attribute value (``None``: it is dropped)."""
    if kind is str:
        return _attr
    if kind is int:
        return lambda value: f'"{value}"'
    if kind is type(None):
        return None
    return lambda value: _attr(_text(_plain(value)))


def _prepare(
    shapes: Iterable[_Shape],
    opening: Mapping[str, str],
    closing: str,
    text: Callable[[type], Callable[[Any], str] | None],
    wrap: Callable[[str], str],
    omit: str | None = None,
) -> None:
    """Each shape's template (the element's own fields first, then one field a written value) and converters."""
    for shape in dict.fromkeys(shapes):
        convert = [None if name == omit else text(kind) for name, kind in zip(shape.names, shape.types, strict=True)]
        inner = "".join(f"{opening[name]}{{}}{closing}" for name, c in zip(shape.names, convert, strict=True) if c)
        shape.template, shape.convert = wrap(inner), tuple(convert)


def _edge_data(g: nx.DiGraph) -> Iterator[dict[str, Any]]:
    for later in g._succ.values():
        yield from later.values()


def iter_graphml(g: nx.DiGraph) -> Iterator[str]:
    """The graph as GraphML text in pieces."""
    with paused_gc():  # the first pass keeps little; the collector would only walk the graph again
        graph_attrs = _plain_attrs(g.graph)
        graph_keys, _ = _shapes([graph_attrs])
        node_keys, node_shapes = _shapes(g._node.values())
        edge_keys, edge_shapes = _shapes(_edge_data(g))
        ids = {node: _attr(str(node)) for node in g._node}
    opening: dict[str, dict[str, str]] = {"graph": {}, "node": {}, "edge": {}}
    out = [
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    ]
    n = 0
    for scope, keys in (("graph", graph_keys), ("node", node_keys), ("edge", edge_keys)):
        for name, kind in keys.items():
            opening[scope][name] = f'<data key="d{n}">'
            out.append(f'  <key id="d{n}" for="{scope}" attr.name={quoteattr(name)} attr.type="{kind}" />\n')
            n += 1
    out.append('  <graph edgedefault="directed">\n')
    out.extend(f"    {opening['graph'][k]}{_value(v)}</data>\n" for k, v in graph_attrs.items())
    yield "".join(out)
    _prepare(node_shapes, opening["node"], "</data>", _graphml_text, "    <node id={{}}>{}</node>\n".format)
    _prepare(
        edge_shapes, opening["edge"], "</data>", _graphml_text, "    <edge source={{}} target={{}}>{}</edge>\n".format
    )
    # The hot loops: one format call per element, its values converted by their shape's converters.
    batch: list[str] = []
    for (node, data), shape in zip(g._node.items(), node_shapes, strict=True):
        batch.append(shape.text((ids[node],), data))
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch.clear()
    shapes = iter(edge_shapes)
    for u, later in g._succ.items():
        source = ids[u]
        for v, data in later.items():
            shape = next(shapes)
            batch.append(shape.text((source, ids[v]), data))
            if len(batch) >= BATCH:
                yield "".join(batch)
                batch.clear()
    batch.append("  </graph>\n</graphml>\n")
    yield "".join(batch)


GEXF_KINDS = {"boolean": "boolean", "long": "long", "double": "double", "string": "string"}


def iter_gexf(g: nx.DiGraph) -> Iterator[str]:
    """The graph as GEXF 1.2 text in pieces (static, directed)."""
    with paused_gc():  # as in iter_graphml
        node_keys, node_shapes = _shapes(g._node.values(), omit="label")
        edge_keys, edge_shapes = _shapes(_edge_data(g))
        ids = {node: _attr(str(node)) for node in g._node}
    out = [
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
        '  <graph defaultedgetype="directed" mode="static" name="">\n'
    ]
    opening: dict[str, dict[str, str]] = {"node": {}, "edge": {}}
    n = 0
    for scope, keys in (("node", node_keys), ("edge", edge_keys)):
        out.append(f'    <attributes class="{scope}" mode="static">\n')
        for name, kind in keys.items():
            opening[scope][name] = f'<attvalue for="{n}" value='
            out.append(f'      <attribute id="{n}" title={quoteattr(name)} type="{GEXF_KINDS[kind]}" />\n')
            n += 1
        out.append("    </attributes>\n")
    out.append("    <nodes>\n")
    yield "".join(out)

    def node(inner: str) -> str:
        return f"      <node id={{}} label={{}}>{_attvalues(inner)}</node>\n"

    def edge(inner: str) -> str:
        return f'      <edge id="{{}}" source={{}} target={{}}>{_attvalues(inner)}</edge>\n'

    _prepare(node_shapes, opening["node"], " />", _gexf_text, node, omit="label")
    _prepare(edge_shapes, opening["edge"], " />", _gexf_text, edge)
    batch: list[str] = []  # as in iter_graphml
    for (name, data), shape in zip(g._node.items(), node_shapes, strict=True):
        label = data.get("label")  # made plain; the node's name if it has none (as networkx writes it)
        label = _attr(str(name if label is None else _plain(label)))
        batch.append(shape.text((ids[name], label), data))
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch.clear()
    batch.append("    </nodes>\n    <edges>\n")
    if len(batch) >= BATCH:
        yield "".join(batch)
        batch.clear()
    shapes = iter(edge_shapes)
    i = 0
    for u, later in g._succ.items():
        source = ids[u]
        for v, data in later.items():
            shape = next(shapes)
            batch.append(shape.text((i, source, ids[v]), data))
            i += 1
            if len(batch) >= BATCH:
                yield "".join(batch)
                batch.clear()
    batch.append("    </edges>\n  </graph>\n</gexf>\n")
    yield "".join(batch)


def _attvalues(inner: str) -> str:
    return f"<attvalues>{inner}</attvalues>" if inner else ""
