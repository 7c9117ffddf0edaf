"""The server half: listener, per-connection protocol, exchange, handlers."""
