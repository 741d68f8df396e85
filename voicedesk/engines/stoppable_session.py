"""Piper's ONNX session, made stoppable: a Stop ends a synthesis run under way.

Piper calls `session.run(None, inputs)` and has no way to pass run options, so a Stop used to
wait for the run under way to finish (~380 ms of both cores for a 100-phoneme run), with
its sound thrown away, while the next utterance shared the CPU with it. Wrapped here, a run
made inside `stoppable(cancel)` takes onnxruntime `RunOptions` whose `terminate` flag the
cancel token sets; onnxruntime checks it between the graph's nodes and ends the run with an
error, which becomes `Cancelled`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from voicedesk.cancel import on_cancel
from voicedesk.errors import Cancelled


class StoppableSession:
    """Wraps an `onnxruntime.InferenceSession`; everything but `run` is the session's own."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._options = threading.local()  # per calling thread: runs on other threads go on

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def run(
        self,
        output_names: Sequence[str] | None,
        input_feed: dict[str, Any],
        run_options: Any = None,
    ) -> Any:
        options = run_options or getattr(self._options, "current", None)
        return self._session.run(output_names, input_feed, options)

    @contextlib.contextmanager
    def stoppable(self, cancel: threading.Event | None) -> Iterator[None]:
        """Runs made on this thread inside the block end when `cancel` (a `CancelToken`) is set,
        already set included: `Cancelled` is raised. A plain Event is only checked after."""
        import onnxruntime

        options = onnxruntime.RunOptions()
        self._options.current = options
        forget = on_cancel(cancel, lambda: setattr(options, "terminate", True))
        try:
            yield
        except Exception:
            if cancel is not None and cancel.is_set():
                raise Cancelled() from None  # onnxruntime's "terminate flag" error
            raise
        finally:
            forget()
            self._options.current = None
