"""The embedded agent server (`wsdash serve`, `wsdash demo`, tests, benchmarks)."""

from wsdash.services.agent_server.scenarios import ScenarioError, validate
from wsdash.services.agent_server.server import AgentServer, ServerThread

__all__ = ["AgentServer", "ServerThread", "ScenarioError", "validate"]
