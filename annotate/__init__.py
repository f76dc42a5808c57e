"""Label Studio side: run a local server (server.py), connect to one (client.py)."""
