"""Plans as data: validating a plan file, loading it into the database, exporting it as JSON."""
