"""pitboard uses no pydantic plugin: pydantic's plugin discovery kept off the start-up path.

pydantic looks for plugins the first time it builds a validator (``pydantic.plugin._loader``,
imported then), and that module imports :mod:`importlib.metadata` -- with ``email``,
``zipfile``, ``csv`` and more, 20-40 ms at every start -- even when
``PYDANTIC_DISABLE_PLUGINS`` says there is nothing to look for. :func:`skip_discovery`
puts a stand-in for that module in its place: while plugins are disabled it answers
``get_plugins()`` with none, as pydantic's own does then; should they be enabled later, it
hands over to pydantic's own loader (imported then), which from then on answers itself.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Iterable

LOADER = "pydantic.plugin._loader"
DISABLED = ("__all__", "1", "true")  # the values pydantic's get_plugins() reads as "none"


def _disabled() -> bool:
    return os.environ.get("PYDANTIC_DISABLE_PLUGINS") in DISABLED


def get_plugins() -> Iterable[object]:
    """Like pydantic's ``get_plugins``: none while plugins are disabled, else pydantic's."""
    if _disabled():
        return ()
    if getattr(sys.modules.get(LOADER), "get_plugins", None) is get_plugins:
        del sys.modules[LOADER]  # pydantic's own module from now on
    return importlib.import_module(LOADER).get_plugins()


def skip_discovery() -> bool:
    """Install the stand-in (True) when plugins are disabled and pydantic's loader is not
    imported yet; else leave everything as it is (False)."""
    if not _disabled() or LOADER in sys.modules:
        return False
    stand_in = types.ModuleType(LOADER, __doc__)
    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    sys.modules[LOADER] = stand_in
    return True
