"""Python's cycle collector paused around work that makes many small objects which live to its end.

Building a 20,000-task graph makes ~150,000 dicts that live as long as the graph; a reminder sweep at
scale holds hundreds of thousands of items and lines to its end. Each time a few thousand more objects
were made, the collector walked all of them again: about a fifth of the graph's build and analyses
(``bench/graph_bench.py``), half of the sweep's collecting at 20,000 tasks (``bench/sweep_bench.py``).
Reference counting still frees what is let go meanwhile; cycles wait for the next collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector for the block (if it was on), and turn it back on after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
