"""For the benchmark: pitboard's own app and fleet screen with no data source at all
(backends are never built), marking its first frame like the other two apps
(``PITBOARD_FIRST_FRAME_FILE``). Between the bare app and ``pitboard --demo`` it shows
what the screen itself costs -- the imports it needs (Textual widgets, pydantic models)
and composing, styling and drawing its panels -- apart from reading any data."""

from __future__ import annotations

import os
import sys

from console.cli import main as cli
from console.cli.main import main as cli_main
from console.controllers import polling
from console.screens import fleet


def main() -> int:
    """Run ``pitboard --demo`` with the backends never built."""
    # methods replaced for this run only (setattr: assigning to a method is refused by the
    # type checker, rightly, anywhere else)
    setattr(polling.Poller, "connect", lambda self: None)  # noqa: B010 - backends never built
    setattr(cli, "BackendsInAdvance", lambda settings: None)  # noqa: B010 - nor started early
    mounted = fleet.FleetScreen.on_mount

    def on_mount(screen: fleet.FleetScreen) -> None:
        mounted(screen)
        path = os.environ.get(fleet.FIRST_FRAME_ENV)
        if path:
            screen.call_after_refresh(fleet._mark_first_frame, path)

    setattr(fleet.FleetScreen, "on_mount", on_mount)  # noqa: B010
    return cli_main(["--demo"])


if __name__ == "__main__":
    sys.exit(main())
