"""Leadership views: responsibility matrix, dashboard, targets, counties, departments, assessment.

``rules`` holds the pure rules (no database, ``today`` passed in); ``snapshot`` reads a plan's
state in a fixed number of queries; the other modules shape that snapshot for one page or export.
"""
