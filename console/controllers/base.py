"""What every controller shares: the app it belongs to, and thread workers run on it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from textual.worker import Worker

if TYPE_CHECKING:
    from console.app import PitboardApp

C = TypeVar("C", bound="Controller")
P = ParamSpec("P")


class Controller:
    """A plain object owned by the app (``app.poller``, ``app.navigator``, ``app.actions``,
    ``app.records``). It holds its own state; what it shows goes through the app's screens
    and what its threads find comes back to it as messages the app hands over."""

    def __init__(self, app: PitboardApp) -> None:
        self.app = app


def in_thread(*, group: str, exclusive: bool = False, name: str = "", description: str = ""
              ) -> Callable[[Callable[Concatenate[C, P], object]],
                            Callable[Concatenate[C, P], Worker[object]]]:
    """Textual's ``@work(thread=True, exit_on_error=False)`` for a controller method: the
    call returns at once (with the worker) and the body runs in one of the app's thread
    workers (errors land in the app's one ``Worker.StateChanged`` handler, never exit the
    app)."""

    def decorate(fn: Callable[Concatenate[C, P], object]
                 ) -> Callable[Concatenate[C, P], Worker[object]]:
        @wraps(fn)
        def start(self: C, *args: P.args, **kwargs: P.kwargs) -> Worker[object]:
            return self.app.run_worker(partial(fn, self, *args, **kwargs), thread=True,
                                       exclusive=exclusive, exit_on_error=False, group=group,
                                       name=name, description=description or fn.__name__)

        return start

    return decorate
