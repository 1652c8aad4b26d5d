"""The plan graph service: queries, cache, edits to links, pages and exports (analysis: tracker.graph)."""
