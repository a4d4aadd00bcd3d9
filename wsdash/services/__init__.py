"""Services: environment health, test tiers, the embedded agent server, live and replayed sessions.

Built on the core; headless (no Textual, no argparse, no printing).
"""
