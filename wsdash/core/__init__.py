"""The core: protocol, contract, connection, recording, configuration, errors, redaction.

Plain asyncio and dataclasses. It imports nothing from the layers above and never Textual.
"""
