"""Request models of each wire format (pydantic); responses are shaped by the routes."""
