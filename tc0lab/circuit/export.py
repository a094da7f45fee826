"""Write a circuit to GraphML, node-link JSON or Graphviz DOT (chosen by file extension).

Node attributes that are tuples (operands, lookup stages, input index) are written as
strings, because GraphML only holds scalars; the JSON keeps them as lists.
"""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from tc0lab.circuit import nodes as K

FORMATS = {".graphml": "graphml", ".json": "json", ".dot": "dot", ".gv": "dot"}


def _scalar_attributes(attrs: dict) -> dict:
    flat = {}
    for key, value in attrs.items():
        if value is None:
            continue
        flat[key] = value if isinstance(value, (int, float, str, bool)) else repr(value)
    return flat


def export(graph: nx.DiGraph, path: str | Path) -> str:
    """Write graph to path in the format its extension names; returns the format used."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the export format from {path.name!r}: use one of {', '.join(sorted(FORMATS))}")
    if fmt == "graphml":
        flat = nx.DiGraph()
        flat.add_nodes_from((node, _scalar_attributes(attrs)) for node, attrs in graph.nodes(data=True))
        flat.add_edges_from(graph.edges())
        nx.write_graphml(flat, path)
    elif fmt == "json":
        document = nx.node_link_data(graph, edges="edges")
        document["graph"] = {key: value for key, value in document.get("graph", {}).items() if key != K.TOPOLOGICAL}
        path.write_text(json.dumps(document, default=lambda value: value if not isinstance(value, complex) else repr(value)))
    else:
        path.write_text(to_dot(graph))
    return fmt


def to_dot(graph: nx.DiGraph) -> str:
    """Graphviz DOT text: one node per gate labelled with its op, edges operand -> gate."""
    lines = ["digraph circuit {", "  rankdir=LR;"]
    for node, attrs in graph.nodes(data=True):
        label = attrs.get(K.OP, "?")
        if label == "lookup":
            label += ":" + ".".join(name for name, _ in attrs[K.FN])
        lines.append(f'  "{node}" [label="{node}\\n{label}"];')
    for source, target in graph.edges():
        lines.append(f'  "{source}" -> "{target}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
