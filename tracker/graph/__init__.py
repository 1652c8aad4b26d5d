"""The plan's dependency and ownership graph.

- :mod:`tracker.graph.model` — the rows handed in, node names, building the graph, walking dependencies (pure);
- :mod:`tracker.graph.analysis` — critical chain, conflicts, delay impact, workload, co-ownership, checks (pure);
- :mod:`tracker.graph.service` — reads the rows, caches the built graph, edits links (database);
- :mod:`tracker.graph.render` — the SVG layouts of the graph pages.

The pure API of ``model`` and ``analysis`` is re-exported here, so ``from tracker import graph as gx``
reads ``gx.build_graph``, ``gx.critical_chain`` … Nothing in this package imports from ``web``.
"""

from .analysis import *  # noqa: F403
from .analysis import __all__ as _analysis_all
from .model import *  # noqa: F403
from .model import __all__ as _model_all

__all__ = [*_model_all, *_analysis_all]
