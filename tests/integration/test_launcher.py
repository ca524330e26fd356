"""`make run` for real: the launcher (and make itself) in its own process group on a temporary
instance folder, stopped by a signal to that group. Every process it started ends (web,
worker, the embedded redis-server), nothing prints a traceback, and it exits 0.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.support.servers import free_port
from tests.support.worker import wait_until

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 120


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    log: Path
    port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def started(self) -> list[int]:
        """Every process started so far: descendants, and the daemonised redis-server."""
        pids = [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)]
        found = re.search(r"unix://(\S+?redis\.socket)", self.output())
        assert found, self.output()
        for p in psutil.process_iter(["cmdline"]):
            if any(found.group(1) in part for part in p.info["cmdline"] or []):
                pids.append(p.pid)
        return pids


Launch = Callable[[list[str]], Run]


def _env(instance: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "PORT")}
    env.update(
        INSTANCE_PATH=str(instance),
        PORT=str(port),
        PYTHONPATH=str(ROOT),
        WEB_CONCURRENCY="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    runs: list[Run] = []

    def start(command: list[str]) -> Run:
        port = free_port()
        log = tmp_path / f"run-{len(runs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=_env(tmp_path / "instance", port),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a terminal gives `make run`
            )
        run = Run(proc, log, port)
        runs.append(run)
        wait_until(lambda: _healthy(port), STARTUP_TIMEOUT, 0.5, run.output)
        wait_until(lambda: "worker ready: listening on" in run.output(), 30, 0.2, run.output)
        return run

    yield start
    for run in runs:  # a failed test leaves nothing running either
        if run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGKILL)
            run.proc.wait()


def _stop(run: Run, signum: int, own_code: int = 0) -> str:
    """Signal the run's process group; check its exit code, its output, and that every
    process it started has ended. Returns the output."""
    started = run.started()
    assert len(started) >= 4, (started, run.output())  # honcho, gunicorn, worker, redis-server
    os.killpg(run.proc.pid, signum)
    code = run.proc.wait(timeout=60)
    output = run.output()
    assert code == own_code, output
    assert "Traceback" not in output, output
    assert "rc=-9" not in output, output  # nothing had to be killed by honcho
    wait_until(lambda: not [pid for pid in started if _alive(pid)], 10, 0.2, output.__str__)
    return output


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_launchers_group_stops_every_process_and_exits_0(
    launch: Launch, signum: int
) -> None:
    run = launch([sys.executable, "-m", "service.entrypoints.launcher"])
    assert "mary" in run.output() and "visitflow" in run.output()  # the demo users printed
    _stop(run, signum)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_ctrl_c_on_make_run_stops_everything_it_started(launch: Launch) -> None:
    # BIN: this interpreter's venv; STAMP empty: no install step (the venv is ready)
    bin_dir = Path(sys.executable).parent
    run = launch(["make", "--no-print-directory", "run", f"BIN={bin_dir}", "STAMP="])
    # GNU make, hit by the terminal's SIGINT too, waits for the launcher and then ends
    # itself by that signal, whatever the recipe's exit status
    output = _stop(run, signal.SIGINT, own_code=-signal.SIGINT)
    assert not re.search(r"make: \*\*\*.*Error", output), output  # the launcher exited 0


def test_a_second_start_on_the_same_instance_keeps_the_data_and_stops_cleanly(
    launch: Launch,
) -> None:
    first = launch([sys.executable, "-m", "service.entrypoints.launcher"])
    _stop(first, signal.SIGTERM)
    second = launch([sys.executable, "-m", "service.entrypoints.launcher"])
    assert "demo data loaded" not in second.output()  # the database (and its users) kept
    _stop(second, signal.SIGINT)
