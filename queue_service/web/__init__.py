"""The HTTP layer: request parsing, error mapping, rate limits, and the blueprints of ``api/``."""
