"""The --stop-drill of packaging/qemu-boot.py: stop and restart the kiosk under the guest's systemd.

Its own module because the drill is a conversation of its own: a unit and a
script put into the test copy (the guest side), a fixed set of words over the
guest's ttyS0 (the host side), and the verdict read from systemd's answers and
the journal.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from qemu_machine import Monitor, connect_unix
from qemu_screen import to_png, wait_home

# The drill's guest side: a unit and a script, put only into the temporary copy
# of the image that --stop-drill boots.  It answers a fixed set of words on
# ttyS0; anything else is refused, so the port gives no shell.
DRILL_UNIT = """\
[Unit]
Description=qemu-boot.py --stop-drill (a temporary test copy of the image only)

[Service]
Type=simple
ExecStart=/usr/local/sbin/kiosk-qemu-drill
StandardInput=tty
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
"""
DRILL_SCRIPT = r"""#!/bin/sh
# qemu-boot.py --stop-drill: a temporary test copy of the image only.
stty 115200 -echo 2>/dev/null
unit=utility-kiosk.service
dropin=/run/systemd/system/$unit.d/drill-no-execstop.conf
show() {
    echo "drill: $(systemctl show "$unit" -p ActiveState -p SubState -p Result -p ExecMainCode \
        -p ExecMainStatus -p NRestarts -p MainPID | tr '\n' ' ')"
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "drill: ready"
while read -r word; do
    case $word in
        status) show ;;
        restart|stop|start)
            t0=$(uptime_s)
            systemctl "$word" "$unit"
            rc=$?
            echo "drill: systemctl $word rc=$rc from $t0 to $(uptime_s) s (guest uptime)"
            show ;;
        no-execstop)
            mkdir -p "${dropin%/*}"
            printf '[Service]\nExecStop=\n' > "$dropin"
            systemctl daemon-reload
            echo "drill: ExecStop= emptied by $dropin"
            systemctl show "$unit" -p ExecStop | sed 's/^/drill: /' ;;
        execstop)
            rm -f "$dropin"
            systemctl daemon-reload
            echo "drill: $dropin removed"
            systemctl show "$unit" -p ExecStop | sed 's/^/drill: /' ;;
        log)
            journalctl -b -o short-monotonic --no-pager --no-hostname _PID=1 UNIT="$unit" | tail -n 40 |
                sed 's/^/drill: /' ;;
        *) echo "drill: refused" ;;
    esac
    echo "drill: end $word"
done
"""


def install_drill(root: Path) -> None:
    """The drill's unit and script, enabled, in the test copy's root file system mounted at ``root``."""
    unit = root / "etc/systemd/system/kiosk-qemu-drill.service"
    unit.write_text(DRILL_UNIT)
    script = root / "usr/local/sbin/kiosk-qemu-drill"
    script.write_text(DRILL_SCRIPT)
    script.chmod(0o755)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(exist_ok=True)
    (wants / unit.name).symlink_to("/etc/systemd/system/" + unit.name)


class DrillPort:
    """The host's end of the guest's ttyS0: send a word, collect the lines up to ``drill: end <word>``."""

    def __init__(self, path: Path, timeout_s: float = 60) -> None:
        self.sock = connect_unix(path, timeout_s)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        pending = b""
        while True:
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            *complete, pending = pending.split(b"\n")
            with self.cond:
                self.lines += [line.decode(errors="replace").rstrip("\r") for line in complete]
                self.cond.notify_all()

    def wait_for(self, line: str, timeout_s: float, start: int = 0) -> int:
        """Index of the first line equal to ``line`` at or after ``start``."""
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while True:
                for index in range(start, len(self.lines)):
                    if self.lines[index] == line:
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {line!r} from the guest within {timeout_s:.0f} s")
                self.cond.wait(left)

    def run(self, word: str, timeout_s: float = 180) -> list[str]:
        with self.cond:
            start = len(self.lines)
        self.sock.sendall(word.encode() + b"\n")
        end = self.wait_for(f"drill: end {word}", timeout_s, start)
        with self.cond:
            answer = [line for line in self.lines[start:end] if line.startswith("drill: ")]
        for line in answer:
            print(f"qemu-boot: [{word}] {line}", flush=True)
        return answer


def stop_drill(port: DrillPort, monitor: Monitor, ppm: Path, out: Path | None) -> dict[str, object]:
    """Restart, stop and start the kiosk under the guest's systemd; then the same without ExecStop=."""
    port.wait_for("drill: ready", 120)
    results: dict[str, object] = {}

    def step(word: str, expect_home: bool, name: str) -> None:
        began = time.monotonic()
        answer = port.run(word)
        took = time.monotonic() - began
        home = wait_home(monitor, ppm, 60 if expect_home else 0.1)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            to_png(ppm, out / f"drill-{name}.png")
        results[name] = {"answer": answer, "systemctl_s": round(took, 1),
                         "home_screen": home is not None,
                         "home_after_s": None if home is None else round(took + home, 1)}

    step("status", True, "before")
    step("restart", True, "restart")
    step("stop", False, "stop")
    step("start", True, "start")
    # Baseline: the same restart with ExecStop= emptied, as before kiosk-stop existed.
    step("no-execstop", True, "baseline-dropin")
    step("restart", True, "baseline-restart")
    step("execstop", True, "baseline-undone")
    step("restart", True, "restart-again")
    step("log", True, "log")
    return results


def drill_passed(drill: object, journal: list[str]) -> bool:
    """The stop, the restarts and the power-off with ExecStop= ended in success, and home came back."""
    if not isinstance(drill, dict):
        print("qemu-boot: drill: not run", file=sys.stderr)
        return False
    problems = []
    for name in ("restart", "start", "restart-again"):
        if not drill[name]["home_screen"]:
            problems.append(f"no home screen after {name}")
    stop = " ".join(drill["stop"]["answer"]).split()
    # ExecMainCode=1 (CLD_EXITED): cage exited by itself.  systemd also calls a
    # stop by SIGHUP (ExecMainCode=2, status 1) a success; that one hid a tty hangup.
    if not {"Result=success", "ExecMainCode=1", "ExecMainStatus=0"} <= set(stop):
        problems.append("the stop did not end with cage exiting 0 by itself (Result=success, ExecMainCode=1, "
                        "ExecMainStatus=0)")
    if drill["stop"]["home_screen"]:
        problems.append("the home screen stayed up after the stop")
    # The baseline (no ExecStop=) is expected to fail with 'signal'; only the runs with it must be clean.
    failures = [line for line in journal if "Failed with result" in line or "dumped core" in line]
    print(f"qemu-boot: drill: {len(failures)} failed stop(s) in the journal (1 expected: the baseline)")
    if len(failures) > 1:
        problems.append("more failed stops than the baseline's")
    for problem in problems:
        print(f"qemu-boot: drill: {problem}", file=sys.stderr)
    return not problems
