"""Boots a rendered stack\x27s own processes on this machine against real services."""
