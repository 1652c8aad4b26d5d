"""Progress reporting: check-ins, reviews, evidence, extensions, sub-tasks."""
