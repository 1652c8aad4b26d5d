"""Leaders' instructions (批示) on tasks and the lead department's answers."""
