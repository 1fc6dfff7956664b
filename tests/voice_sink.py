"""A player for the voice's tests: a real process that reads the WAV from stdin and keeps it as a file.

It stands where aplay stands (this machine has no sound card): the voice
starts it, writes to it and kills it exactly as it would aplay.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

SINK = textwrap.dedent("""
    import os, sys, time
    out = sys.argv[1]
    stem = os.path.join(out, "%d-%d" % (time.time_ns(), os.getpid()))
    data = sys.stdin.buffer.read(44)
    with open(stem + ".started", "w") as f:
        f.write("%d %f" % (os.getpid(), time.time()))
    hold = os.path.join(out, "hold")
    time.sleep(float(open(hold).read()) if os.path.exists(hold) else 0.0)
    data += sys.stdin.buffer.read()
    with open(stem + ".part", "wb") as f:
        f.write(data)
    os.replace(stem + ".part", stem + ".wav")
""")

class Sink:
    """The sink's side of the bench: its command, and what its runs left behind."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        directory.mkdir()
        script = directory / "sink.py"
        script.write_text(SINK)
        self.command = [sys.executable, str(script), str(directory)]

    def hold(self, seconds: float) -> None:
        (self.dir / "hold").write_text(str(seconds))

    def started(self) -> list[Path]:
        return sorted(self.dir.glob("*.started"))

    def played(self) -> list[Path]:
        return sorted(self.dir.glob("*.wav"))
