"""The embedded simulated fleet behind the same source protocols (only the wiring imports it)."""
