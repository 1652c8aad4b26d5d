"""The JSON API for other systems (read side): personal tokens, rate limits, the read queries and the
OpenAPI description. The blueprint that serves it is ``tracker.web.api``."""
