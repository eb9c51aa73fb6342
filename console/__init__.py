"""The pitboard Textual console."""
