"""GraphML and GEXF written straight from the graph, one element at a time (pure; no networkx writer).

networkx's writers build the whole XML tree first (6–8 s and hundreds of MB for a 20,000-task plan);
these yield text pieces as they go, so a download streams. Attribute values are made plain as in
:func:`tracker.graph.analysis.export_copy` (dates as ISO text, lists joined, ``None`` dropped), so
``networkx.read_graphml`` reads back exactly ``export_copy(graph)``; ``networkx.read_gexf`` reads the
same nodes and edges (each node's ``label`` is the GEXF label, as networkx writes it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from xml.sax.saxutils import quoteattr

import networkx as nx

from .analysis import _plain, _plain_attrs

__all__ = ["iter_gexf", "iter_graphml"]

BATCH = 2000  # elements per yielded piece


KINDS = {bool: "boolean", int: "long", float: "double", str: "string"}


def _kind(value: Any) -> str:
    return KINDS.get(type(value), "string")


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


def _keys(items: Iterator[Mapping[str, Any]]) -> dict[str, str]:
    """Every attribute name with its type (ints mixed with floats are doubles, anything else with text is text)."""
    kinds: dict[str, str] = {}
    for data in items:
        for name, value in data.items():
            kind, seen = KINDS.get(type(value), "string"), kinds.get(name)
            if seen == kind:
                continue
            if seen is None:
                kinds[name] = kind
            elif {seen, kind} == {"long", "double"}:
                kinds[name] = "double"
            else:
                kinds[name] = "string"
    return kinds


def _plain_all(g: nx.DiGraph) -> tuple[list[tuple[Any, dict[str, Any]]], list[tuple[Any, Any, dict[str, Any]]]]:
    """Every node's and edge's attributes made plain, once (both the key pass and the writing use them)."""
    nodes = [(n, _plain_fast(d)) for n, d in g.nodes(data=True)]
    edges = [(u, v, _plain_fast(d)) for u, v, d in g.edges(data=True)]
    return nodes, edges


def _plain_fast(data: dict[str, Any]) -> dict[str, Any]:
    """``analysis._plain_attrs`` with the common plain types passed straight through."""
    out = {}
    for key, value in data.items():
        kind = type(value)
        if kind is str or kind is int or kind is bool:
            out[key] = value
        elif value is not None:
            plain = _plain(value)
            if plain is not None:
                out[key] = plain
    return out


def _batched(pieces: Iterator[str]) -> Iterator[str]:
    batch: list[str] = []
    for piece in pieces:
        batch.append(piece)
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def iter_graphml(g: nx.DiGraph) -> Iterator[str]:
    """The graph as GraphML text in pieces."""
    nodes, edges = _plain_all(g)
    graph_attrs = _plain_attrs(g.graph)
    node_keys = _keys(d for _, d in nodes)
    edge_keys = _keys(d for _, _, d in edges)
    graph_keys = _keys(iter([graph_attrs]))
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
    node_open, edge_open = opening["node"], opening["edge"]

    ids = {node: _attr(str(node)) for node, _ in nodes}

    def pieces() -> Iterator[str]:
        for node, attrs in nodes:
            inner = "".join([f"{node_open[k]}{_value(v)}</data>" for k, v in attrs.items()])
            yield f"    <node id={ids[node]}>{inner}</node>\n"
        for u, v, attrs in edges:
            inner = "".join([f"{edge_open[k]}{_value(x)}</data>" for k, x in attrs.items()])
            yield f"    <edge source={ids[u]} target={ids[v]}>{inner}</edge>\n"
        yield "  </graph>\n</graphml>\n"

    yield from _batched(pieces())


GEXF_KINDS = {"boolean": "boolean", "long": "long", "double": "double", "string": "string"}


def iter_gexf(g: nx.DiGraph) -> Iterator[str]:
    """The graph as GEXF 1.2 text in pieces (static, directed)."""
    nodes, edges = _plain_all(g)
    labels = [str(attrs.pop("label", node)) for node, attrs in nodes]
    node_keys = _keys(d for _, d in nodes)
    edge_keys = _keys(d for _, _, d in edges)
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
    node_open, edge_open = opening["node"], opening["edge"]

    def values(first: dict[str, str], attrs: dict[str, Any]) -> str:
        inner = "".join([f"{first[k]}{_attr(_text(v))} />" for k, v in attrs.items()])
        return f"<attvalues>{inner}</attvalues>" if inner else ""

    ids = {node: _attr(str(node)) for node, _ in nodes}

    def pieces() -> Iterator[str]:
        for (node, attrs), label in zip(nodes, labels, strict=True):
            yield f"      <node id={ids[node]} label={_attr(label)}>{values(node_open, attrs)}</node>\n"
        yield "    </nodes>\n    <edges>\n"
        for i, (u, v, attrs) in enumerate(edges):
            yield f'      <edge id="{i}" source={ids[u]} target={ids[v]}>{values(edge_open, attrs)}</edge>\n'
        yield "    </edges>\n  </graph>\n</gexf>\n"

    yield from _batched(pieces())
