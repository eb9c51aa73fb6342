"""For the benchmark: the bare app (``console.cli._bench_bare``) that also imports pitboard's
domain models (``backends.domain.models``: pydantic, as the product card fixes) and does nothing
else with them. The first frame with data needs these models; this is the floor any
pitboard first frame with data stands on, next to the framework's own floor."""

from __future__ import annotations

import backends.domain.models  # noqa: F401 - the import is what is measured
from console.cli._bench_bare import BareApp

if __name__ == "__main__":
    BareApp().run()
