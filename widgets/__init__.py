"""Reusable widgets: data in (attributes), intents out (messages). No I/O.

Import the widget modules directly (``from widgets.gpu_grid import GpuGrid``); this package
re-exports nothing so that importing one widget never pulls in plotext.
"""
