"""Engine throughput and memory against the naive Machine-per-instance approach, same run.

Fires the visit lifecycle planned -> prepared -> visited -> recorded -> reported with
typical form data, (a) through the engine's shared machine and (b) naively, building a
`transitions.Machine` per instance as a stateless service would per request. "validated"
includes the form validation both would do; "bare" uses the same definition with its
fields stripped, so that only the state machine work is compared. Memory is measured
with tracemalloc for 100,000 loaded instances. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from transitions import Machine

from workflows import Actor, Instance, Registry, Workflow

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
ACTOR = Actor("mary", "marketing_staff", "marketing")
LIFECYCLE = ("prepare", "visit", "record", "report")
TEXT = "客户介绍了今年的扩产计划，关注交付周期与售后响应速度。" * 4

# Every step fires at NOW: the visit's actual time is NOW, never later (`not_after: now`).
FORM_DATA: dict[str, dict[str, Any]] = {
    "prepare": {
        "customer_background_reviewed": True,
        "needs_and_history_reviewed": True,
        "materials": ["brochure", "product_manual"],
        "time_place_confirmed": True,
        "contact_person": "王经理",
    },
    "visit": {"visited_at": "2026-11-02T09:00:00+08:00", "site_tour_or_demo": True},
    "record": {
        "visited_at": "2026-11-02T09:00:00+08:00",
        "place": "上海市浦东新区客户总部",
        "visitors": ["mary", "tom"],
        "customer_basics": TEXT,
        "visit_content": TEXT,
        "customer_issues": TEXT,
        "customer_suggestions": TEXT,
    },
    "report": {
        "customer_basics": TEXT,
        "content_summary": TEXT,
        "issues_and_suggestions": TEXT,
        "analysis_and_conclusions": TEXT,
        "improvement_measures": TEXT,
    },
}


def creation_attrs(i: int) -> dict[str, Any]:
    return {
        "customer_id": i,
        "planned_at": NOW + timedelta(days=8, minutes=i % 600),
        "visitors": ["mary", "tom"],
        "topics": ["business_cooperation", "needs_research"],
        "place": f"客户总部 {i}",
        "purpose": "年度走访",
        "created_by": "mary",
    }


def strip_fields(workflow: Workflow) -> Workflow:
    d = workflow.definition
    transitions = tuple(dataclasses.replace(t, fields=(), guards=()) for t in d.transitions)
    return Workflow(dataclasses.replace(d, transitions=transitions), workflow.calendar)


def engine_lifecycles(workflow: Workflow, n: int, data: dict[str, dict[str, Any]]) -> float:
    start = time.perf_counter()
    for i in range(n):
        inst = Instance(i, "planned", 1, creation_attrs(i))
        for trigger in LIFECYCLE:
            out = workflow.fire(inst, trigger, ACTOR, data.get(trigger), NOW)
            inst = Instance(i, out.state, out.version, {**inst.attrs, **out.attributes})
    return time.perf_counter() - start


class NaiveModel:
    def __init__(self, i: int, state: str, attrs: dict[str, Any]) -> None:
        self.id = i
        self.state = state
        self.attrs = attrs


def naive_machine(workflow: Workflow, model: NaiveModel) -> Machine:
    d = workflow.definition
    return Machine(
        model=model,
        states=list(d.states),
        transitions=[
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in d.transitions
        ],
        initial=model.state,
        auto_transitions=False,
    )


def naive_lifecycles(workflow: Workflow, n: int, validate: bool) -> float:
    start = time.perf_counter()
    for i in range(n):
        state = "planned"
        attrs = creation_attrs(i)
        for trigger in LIFECYCLE:
            model = NaiveModel(i, state, attrs)  # loaded from the database per request
            naive_machine(workflow, model)
            if validate:
                workflow.form(trigger, state).load(FORM_DATA[trigger])  # type: ignore[union-attr]
            getattr(model, trigger)()
            state = model.state
    return time.perf_counter() - start


def rate(fn: Any, n: int, rounds: int) -> float:
    """Best-of-rounds fires per second (4 fires per lifecycle)."""
    fn(max(1, n // 10))  # warm up
    times = [fn(n) for _ in range(rounds)]
    return 4 * n / min(times)


def memory_per_instance(workflow: Workflow, count: int, naive: bool) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    keep: list[Any] = []
    for i in range(count):
        if naive:
            model = NaiveModel(i, "planned", creation_attrs(i))
            keep.append((model, naive_machine(workflow, model)))
        else:
            keep.append(Instance(i, "planned", 1, creation_attrs(i)))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del keep
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lifecycles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--instances", type=int, default=100_000)
    args = parser.parse_args()

    registry = Registry.from_dir(Path(__file__).resolve().parents[1] / "definitions")
    workflow = registry.get("visit")
    bare = strip_fields(workflow)
    n, r = args.lifecycles, args.rounds

    engine_validated = rate(lambda k: engine_lifecycles(workflow, k, FORM_DATA), n, r)
    naive_validated = rate(lambda k: naive_lifecycles(workflow, k, True), n, r)
    engine_bare = rate(lambda k: engine_lifecycles(bare, k, {}), n, r)
    naive_bare = rate(lambda k: naive_lifecycles(bare, k, False), n, r)
    count = args.instances
    engine_mem = memory_per_instance(workflow, count, naive=False)
    naive_count = max(1000, count // 10)  # the naive form is ~16 KB each: sample it
    naive_mem = memory_per_instance(workflow, naive_count, naive=True)

    figures = {
        "engine_validated_fires_per_s": round(engine_validated),
        "naive_validated_fires_per_s": round(naive_validated),
        "ratio_validated": round(engine_validated / naive_validated, 2),
        "engine_bare_fires_per_s": round(engine_bare),
        "naive_bare_fires_per_s": round(naive_bare),
        "ratio_bare": round(engine_bare / naive_bare, 2),
        "bytes_per_instance": round(engine_mem),
        "naive_bytes_per_instance": round(naive_mem),
        "instances_measured": count,
        "naive_instances_measured": naive_count,
    }
    print(f"lifecycle planned -> reported, {n} lifecycles x {r} rounds, best round")
    print(
        f"  validated: engine {engine_validated:,.0f}/s  naive {naive_validated:,.0f}/s"
        f"  ratio {figures['ratio_validated']}x (target >= 3)"
    )
    print(
        f"  bare:      engine {engine_bare:,.0f}/s  naive {naive_bare:,.0f}/s"
        f"  ratio {figures['ratio_bare']}x (target >= 10)"
    )
    print(
        f"  memory:    engine {engine_mem:,.0f} B/instance ({count:,} loaded),"
        f" naive {naive_mem:,.0f} B/instance ({naive_count:,} loaded) (target <= 1024)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
