"""The numpydoc Examples of the graph modules run as doctests."""

from __future__ import annotations

import doctest

import pytest

import tracker.graph
import tracker.graphs.service


@pytest.mark.parametrize("module", [tracker.graph, tracker.graphs.service], ids=lambda m: m.__name__)
def test_every_docstring_example_runs(module: object) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
