"""WSGI entry point: builds the app and nothing else (web workers never run scheduled jobs)."""

import gc

from tracker import create_app

app = create_app()
# What the app holds from here on (models, templates' code, the catalogue: ~180,000 objects) lives as
# long as the worker: a full collection walked all of it again, a quarter of a second on a slow core,
# every few dozen requests. Frozen, collections walk only what requests make.
gc.freeze()
