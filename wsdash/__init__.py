"""wsdash: a terminal dashboard for the agent WebSocket golden path."""

__version__ = "0.1.0"
