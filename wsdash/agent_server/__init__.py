"""The embedded agent server (`wsdash serve`, `wsdash demo`, tests, benchmarks)."""

from wsdash.agent_server.scenarios import ScenarioError, validate
from wsdash.agent_server.server import AgentServer, ServerThread

__all__ = ["AgentServer", "ServerThread", "ScenarioError", "validate"]
