"""The framework's floor for the benchmark: a bare Textual app with a header and a footer.
Writes the first-frame marker exactly like pitboard does (``PITBOARD_FIRST_FRAME_FILE``)."""

from __future__ import annotations

import os
import time

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header


class BareApp(App):
    """Header + Footer, nothing else."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Footer()

    def on_mount(self) -> None:
        path = os.environ.get("PITBOARD_FIRST_FRAME_FILE")
        if path:
            self.call_after_refresh(self._mark, path)

    @staticmethod
    def _mark(path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"{time.time():.6f}\n")


if __name__ == "__main__":
    BareApp().run()
