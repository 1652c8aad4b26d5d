"""Leadership views: responsibility matrix, dashboard, targets, counties, departments, assessment.

``rules`` holds the pure target rules (no database, ``today`` passed in); the plan's state (every
task's light, expected report and missing reporters) comes from :mod:`tracker.tasks.state`; the
modules here shape that state for one page or export.
"""
