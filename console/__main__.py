"""``python -m console`` = ``pitboard``."""

import gc
import sys

# No cyclic collection while pitboard starts: what it builds then (modules, pydantic models,
# styles, widgets) lives as long as the process, and the collector's passes over it cost
# ~100 ms before the first frame. main() turns it back on: at once for a subcommand or
# --once, after the first frame for the console (PitboardApp.after_first_frame).
gc.disable()

from console.cli.main import main  # noqa: E402 - after gc.disable(): the import is the cost

sys.exit(main())
