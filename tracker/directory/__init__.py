"""The directory of departments (bureaus, county governments, outside bodies) and counties, as the
system administrator keeps it: add, rename, merge, deactivate."""
