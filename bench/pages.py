"""Browser load times of the main pages, and of a step submitted through its form.

Starts the service as production does (gunicorn, Alembic-migrated SQLite, embedded Redis) on
the demo data (`flask seed`), signs in with headless Chromium (Playwright, Debian's
/usr/bin/chromium) as the people who use each page, loads each page `--warmup` times, then
`--loads` times with a warm cache, and takes from the browser's Navigation Timing the time
from navigation start to the end of the load event. The step is rescheduling a visit (its form
filled and submitted: POST, redirect, the visit's page loaded), `--steps` times. Prints
p50/p99 per page; the last line is one JSON object of the figures with `worst_p99_ms`.
Benchmarks never assert.

    .venv/bin/python bench/pages.py [--loads 20] [--warmup 2] [--steps 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _support import (
    Client,
    folder_with_redis,
    percentile,
    run_flask,
    service_env,
    start_gunicorn,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "bench-pages"
LOAD_MS = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return n.loadEventEnd - n.startTime;
}"""
SHANGHAI = timezone(timedelta(hours=8))


def first_id(client: Client, path: str) -> int:
    items = client.json("GET", f"/api/v1/{path}?per_page=1")["items"]
    if not items:
        raise SystemExit(f"setup: the demo data has no {path}")
    return int(items[0]["id"])


def token_client(port: int, user: str) -> Client:
    client = Client(port)
    token = client.json("POST", "/api/v1/auth/tokens", {"username": user, "password": PASSWORD})
    client.headers["Authorization"] = f"Bearer {token['token']}"
    return client


def pages_of(port: int) -> dict[str, list[tuple[str, str]]]:
    """Each user's main pages: (name, path), with ids from the demo data."""
    mary, sara = token_client(port, "mary"), token_client(port, "sara")
    visit, issue = first_id(mary, "visits"), first_id(mary, "issues")
    customer, notice = first_id(mary, "customers"), first_id(sara, "rectification-notices")
    mary.close()
    sara.close()
    return {
        "mary": [
            ("inbox", "/"),
            ("visits", "/visits"),
            ("calendar", "/visits/calendar"),
            ("visit", f"/visits/{visit}"),
            ("ledger", "/issues"),
            ("issue", f"/issues/{issue}"),
            ("customers", "/customers"),
            ("customer", f"/customers/{customer}"),
            ("notifications", "/notifications"),
        ],
        "sara": [("notices", "/notices"), ("notice", f"/notices/{notice}")],
        "mike": [("dashboard", "/dashboard"), ("compliance", "/compliance"), ("plan", "/plan")],
    }


class Person:
    """A browser context signed in through the login form."""

    def __init__(self, browser: Any, base: str, username: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.page.goto(f"{base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("#login-submit")
        if "/login" in self.page.url:
            raise SystemExit(f"setup: {username} could not sign in")

    def load(self, path: str) -> float | None:
        """Milliseconds from navigation start to the load event's end; None if not 200."""
        response = self.page.goto(f"{self.base}{path}", wait_until="load")
        if response is None or response.status != 200:
            return None
        return self.loaded()

    def loaded(self) -> float:
        self.page.wait_for_function(
            "performance.getEntriesByType('navigation')[0].loadEventEnd > 0"
        )
        return float(self.page.evaluate(LOAD_MS))


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
        "n": len(ordered),
    }


def measure_pages(
    people: dict[str, Person], pages: dict[str, list[tuple[str, str]]], loads: int, warmup: int
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for user, paths in pages.items():
        for name, path in paths:
            if people[user].load(path) is None:
                print(f"{name:<14} {path}: not there (skipped)", flush=True)
                continue
            for _ in range(warmup - 1):
                people[user].load(path)
            samples = [people[user].load(path) for _ in range(loads)]
            out[name] = figures([s for s in samples if s is not None])
            print(
                f"{name:<14} p50 {out[name]['p50_ms']:7.1f} ms   p99 {out[name]['p99_ms']:7.1f} ms"
                f"   ({path})",
                flush=True,
            )
    return out


def measure_steps(mary: Person, port: int, steps: int, warmup: int) -> dict[str, float]:
    """Reschedule one visit `warmup + steps` times through its form; time the submits."""
    client = token_client(port, "mary")
    customer = first_id(client, "customers")
    start = (datetime.now(SHANGHAI) + timedelta(days=30)).replace(hour=10, minute=0, second=0)
    visit = client.json(
        "POST",
        "/api/v1/visits",
        {
            "customer_id": customer,
            "planned_at": start.isoformat(),
            "visitors": ["mary"],
            "topics": ["needs_research"],
            "place": "HQ",
            "purpose": "bench",
        },
    )["id"]
    client.close()
    samples: list[float] = []
    day = start
    for i in range(warmup + steps):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        mary.page.goto(f"{mary.base}/visits/{visit}/fire/reschedule", wait_until="load")
        mary.page.fill("#f-planned_at", day.strftime("%Y-%m-%dT%H:%M"))
        mary.page.fill("#f-reason", "customer asked")
        with mary.page.expect_navigation(wait_until="load"):
            mary.page.click("#fire-submit")
        if "/fire/" in mary.page.url:
            errors = mary.page.locator(".error, #form-errors").all_inner_texts()
            raise SystemExit(f"step submit refused: {errors}")
        if i >= warmup:
            samples.append(mary.loaded())
    return figures(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=20, help="timed loads per page")
    parser.add_argument("--warmup", type=int, default=2, help="loads per page before timing")
    parser.add_argument("--steps", type=int, default=20, help="timed step submits")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with folder_with_redis("vf-bench-pages-") as (tmp, redis_url), ExitStack() as stack:
        env = service_env(tmp, redis_url)
        run_flask(env, "db", "upgrade")
        run_flask(env, "seed", "--password", PASSWORD)
        server = start_gunicorn(
            "service", "service:create_app()", env, tmp, workers=args.workers, threads=args.threads
        )
        stack.callback(server.stop)
        base = f"http://127.0.0.1:{server.port}"
        pages = pages_of(server.port)
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        stack.callback(browser.close)
        people = {user: Person(browser, base, user) for user in pages}
        print(
            f"{args.loads} loads per page after {args.warmup} warm-up loads, "
            f"gunicorn {args.workers}x{args.threads}, {os.cpu_count()} CPUs",
            flush=True,
        )
        timed = measure_pages(people, pages, args.loads, args.warmup)
        step = measure_steps(people["mary"], server.port, args.steps, args.warmup)
        print(
            f"{'step submit':<14} p50 {step['p50_ms']:7.1f} ms   p99 {step['p99_ms']:7.1f} ms"
            "   (reschedule a visit: POST, redirect, its page)",
            flush=True,
        )
    worst = max([f["p99_ms"] for f in timed.values()] + [step["p99_ms"]])
    print(
        json.dumps(
            {
                "pages": timed,
                "step_submit": step,
                "worst_p99_ms": worst,
                "loads": args.loads,
                "target_ms": 300,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
