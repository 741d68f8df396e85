"""A child process that speaks in lines: read them with a bounded wait, write commands."""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Sequence


class LineProcess:
    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            list(command),
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of output

    def expect(self, prefix: str, timeout: float = 10) -> str:
        """The next line starting with `prefix` (lines before it are kept in `seen`)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line; saw {self.seen}") from None
            self.seen.append(line)
            if line.startswith(prefix):
                return line
            if line == "" and self.process.poll() is not None:
                raise AssertionError(f"ended before {prefix!r}; saw {self.seen}")

    def output(self) -> list[str]:
        """Every line read so far (those not yet expected included)."""
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return self.seen

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
