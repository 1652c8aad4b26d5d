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
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from .analysis import _plain_attrs

__all__ = ["iter_gexf", "iter_graphml"]

BATCH = 2000  # elements per yielded piece


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _keys(items: Iterator[Mapping[str, Any]]) -> dict[str, str]:
    """Every attribute name with its type (ints mixed with floats are doubles, anything else with text is text)."""
    kinds: dict[str, str] = {}
    for data in items:
        for name, value in data.items():
            kind, seen = _kind(value), kinds.get(name)
            if seen is None or seen == kind:
                kinds[name] = kind
            elif {seen, kind} == {"long", "double"}:
                kinds[name] = "double"
            else:
                kinds[name] = "string"
    return kinds


def iter_graphml(g: nx.DiGraph) -> Iterator[str]:
    """The graph as GraphML text in pieces."""
    nodes = [(n, _plain_attrs(d)) for n, d in g.nodes(data=True)]
    graph_attrs = _plain_attrs(g.graph)
    node_keys = _keys(d for _, d in nodes)
    edge_keys = _keys(_plain_attrs(d) for _, _, d in g.edges(data=True))
    graph_keys = _keys(iter([graph_attrs]))
    ids: dict[tuple[str, str], str] = {}
    out = [
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    ]
    for scope, keys in (("graph", graph_keys), ("node", node_keys), ("edge", edge_keys)):
        for name, kind in keys.items():
            key = ids[(scope, name)] = f"d{len(ids)}"
            out.append(f'  <key id="{key}" for="{scope}" attr.name={quoteattr(name)} attr.type="{kind}" />\n')
    out.append('  <graph edgedefault="directed">\n')
    out.extend(f'    <data key="{ids[("graph", k)]}">{_text(v)}</data>\n' for k, v in graph_attrs.items())
    yield "".join(out)

    def data(scope: str, attrs: Mapping[str, Any]) -> str:
        return "".join(f'<data key="{ids[(scope, k)]}">{_text(v)}</data>' for k, v in attrs.items())

    batch: list[str] = []
    for n, attrs in nodes:
        batch.append(f"    <node id={quoteattr(str(n))}>{data('node', attrs)}</node>\n")
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch = []
    for u, v, d in g.edges(data=True):
        batch.append(
            f"    <edge source={quoteattr(str(u))} target={quoteattr(str(v))}>{data('edge', _plain_attrs(d))}</edge>\n"
        )
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch = []
    batch.append("  </graph>\n</graphml>\n")
    yield "".join(batch)


GEXF_KINDS = {"boolean": "boolean", "long": "long", "double": "double", "string": "string"}


def iter_gexf(g: nx.DiGraph) -> Iterator[str]:
    """The graph as GEXF 1.2 text in pieces (static, directed)."""
    nodes = [(n, _plain_attrs(d)) for n, d in g.nodes(data=True)]
    node_keys = _keys({k: v for k, v in d.items() if k != "label"} for _, d in nodes)
    edge_keys = _keys(_plain_attrs(d) for _, _, d in g.edges(data=True))
    out = [
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
        '  <graph defaultedgetype="directed" mode="static" name="">\n'
    ]
    ids: dict[tuple[str, str], str] = {}
    for scope, keys in (("node", node_keys), ("edge", edge_keys)):
        out.append(f'    <attributes class="{scope}" mode="static">\n')
        for name, kind in keys.items():
            key = ids[(scope, name)] = str(len(ids))
            out.append(f'      <attribute id="{key}" title={quoteattr(name)} type="{GEXF_KINDS[kind]}" />\n')
        out.append("    </attributes>\n")
    out.append("    <nodes>\n")
    yield "".join(out)

    def values(scope: str, attrs: Mapping[str, Any]) -> str:
        inner = "".join(
            f'<attvalue for="{ids[(scope, k)]}" value={quoteattr(_text(v) if isinstance(v, bool) else str(v))} />'
            for k, v in attrs.items()
        )
        return f"<attvalues>{inner}</attvalues>" if inner else ""

    batch: list[str] = []
    for n, attrs in nodes:
        label = attrs.pop("label", n)
        batch.append(
            f"      <node id={quoteattr(str(n))} label={quoteattr(str(label))}>{values('node', attrs)}</node>\n"
        )
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch = []
    batch.append("    </nodes>\n    <edges>\n")
    for i, (u, v, d) in enumerate(g.edges(data=True)):
        batch.append(
            f'      <edge id="{i}" source={quoteattr(str(u))} target={quoteattr(str(v))}>'
            f"{values('edge', _plain_attrs(d))}</edge>\n"
        )
        if len(batch) >= BATCH:
            yield "".join(batch)
            batch = []
    batch.append("    </edges>\n  </graph>\n</gexf>\n")
    yield "".join(batch)
