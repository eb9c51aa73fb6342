"""Reusable widgets: data in (attributes), intents out (messages). No I/O."""
