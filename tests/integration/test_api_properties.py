"""Random walks through the HTTP API keep the workflow invariants.

A hypothesis state machine creates visits, issues and notices and fires random triggers
(plus a bogus one) as random users, sometimes with a stale version. The oracle is the
definitions (read from the YAML files, not through the service) and the caller's
`allowed_triggers`: the answer must be the one the contract's order of checks gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.integration.conftest import TRANSITION_DATA, World, visit_payload

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "definitions"
PATHS = {"visit": "visits", "issue": "issues", "rectification": "rectification-notices"}
USERS = ["mary", "mike", "tom", "amy", "sara", "boss", "admin"]
OBSERVER = "sara"  # supervision sees everything
BOGUS = "teleport"
VISITOR_SETS = [["mary", "tom"], ["mary"], ["tom", "amy"], ["mike"]]
# who is likely to be allowed to fire each trigger (the oracle does not rely on it)
LIKELY_USERS = {
    **dict.fromkeys(["prepare", "visit", "record"], ["mary", "tom", "mike"]),
    **dict.fromkeys(
        ["rework", "report", "cancel", "reschedule", "assign", "confirm", "reopen"],
        ["mary", "mike"],
    ),
    "answer_on_the_spot": ["mary", "mike"],
    "resolve": ["tom", "mike"],
    **dict.fromkeys(["acknowledge", "rectify"], ["tom", "mary", "boss"]),
    **dict.fromkeys(["verify", "return"], ["sara"]),
}

SETTINGS = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Definition:
    states: frozenset[str]
    initial: str
    triggers: tuple[str, ...]
    dest: dict[tuple[str, str], str]  # (trigger, source) -> dest


def _load(name: str) -> Definition:
    raw = yaml.safe_load((DEFINITIONS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    dest: dict[tuple[str, str], str] = {}
    for t in raw["transitions"]:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            dest[(t["trigger"], source)] = t["dest"]
    triggers = tuple(dict.fromkeys(t["trigger"] for t in raw["transitions"]))
    return Definition(frozenset(raw["states"]), raw["initial"], triggers, dest)


DEFINITIONS = {name: _load(name) for name in PATHS}


@dataclass
class Tracked:
    """What the model knows of one instance: the triggers the API accepted for it."""

    workflow: str
    id: int
    accepted: list[str] = field(default_factory=list)
    state: str = ""

    @property
    def url(self) -> str:
        return f"/api/v1/{PATHS[self.workflow]}/{self.id}"


def expected_answer(
    definition: Definition, view: Any, trigger: str, state: str, stale: bool
) -> tuple[int, str | None]:
    """Status and code the contract's order of checks gives; code None for a success."""
    if view.status_code == 404:
        return 404, "not_found"
    if trigger not in definition.triggers:
        return 422, "invalid_request"
    if stale:
        return 409, "version_conflict"
    if (trigger, state) not in definition.dest:
        return 409, "invalid_transition"
    if trigger not in view.get_json()["allowed_triggers"]:
        return 403, "forbidden"
    return 200, None


class ApiMachine(RuleBasedStateMachine):
    instances = Bundle("instances")

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.tracked: list[Tracked] = []

    # -- creating ------------------------------------------------------------------------
    def _created(self, workflow: str, user: str, payload: dict[str, Any]) -> Tracked:
        r = self.world.post(f"/api/v1/{PATHS[workflow]}", user, payload)
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        assert (body["state"], body["version"]) == (DEFINITIONS[workflow].initial, 1)
        item = Tracked(workflow, body["id"], state=body["state"])
        self.tracked.append(item)
        return item

    @initialize(target=instances)
    def first_visit(self) -> Tracked:
        return self._created("visit", "mary", visit_payload(self.world))

    @initialize(target=instances)
    def first_issue(self) -> Tracked:
        return self._created("issue", "mary", self._issue_payload("Acme"))

    @initialize(target=instances)
    def first_notice(self) -> Tracked:
        return self._created("rectification", "sara", self._notice_payload("technical"))

    def _issue_payload(self, customer: str) -> dict[str, Any]:
        return {
            "customer_id": self.world.customers[customer],
            "title": "slow delivery",
            "description": "the last two orders came late",
            "category": "after_sales",
            "severity": "high",
        }

    @staticmethod
    def _notice_payload(department: str) -> dict[str, Any]:
        return {
            "department": department,
            "findings": "visit records incomplete",
            "due_at": "2026-11-30T18:00:00+08:00",
        }

    @rule(target=instances, workflow=st.sampled_from(list(PATHS)), data=st.data())
    def create(self, workflow: str, data: st.DataObject) -> Tracked:
        if workflow == "visit":
            visitors = data.draw(st.sampled_from(VISITOR_SETS), label="visitors")
            creator = data.draw(st.sampled_from(["mary", "mike"]), label="creator")
            return self._created("visit", creator, visit_payload(self.world, visitors=visitors))
        if workflow == "issue":
            customer = data.draw(st.sampled_from(sorted(self.world.customers)), label="customer")
            raiser = data.draw(st.sampled_from(["mary", "mike"]), label="raiser")
            return self._created("issue", raiser, self._issue_payload(customer))
        department = data.draw(st.sampled_from(["technical", "marketing"]), label="department")
        return self._created("rectification", "sara", self._notice_payload(department))

    # -- firing --------------------------------------------------------------------------
    @rule(item=instances, data=st.data())
    def fire_plausibly(self, item: Tracked, data: st.DataObject) -> None:
        """A trigger from the current state, by a user likely to be allowed, no stale version."""
        definition = DEFINITIONS[item.workflow]
        from_here = [t for t in definition.triggers if (t, item.state) in definition.dest]
        trigger = data.draw(st.sampled_from(from_here or [BOGUS]), label="trigger")
        user = data.draw(st.sampled_from(LIKELY_USERS.get(trigger, USERS)), label="user")
        version = data.draw(st.sampled_from(["absent", "current"]), label="version")
        self._fire(item, trigger, user, version)

    @rule(
        item=instances,
        data=st.data(),
        user=st.sampled_from(USERS),
        version=st.sampled_from(["absent", "current", "older", "newer"]),
    )
    def fire_anything(self, item: Tracked, data: st.DataObject, user: str, version: str) -> None:
        """Any trigger of the workflow or a bogus one, by anyone, with any version."""
        triggers = [*DEFINITIONS[item.workflow].triggers, BOGUS]
        self._fire(item, data.draw(st.sampled_from(triggers), label="trigger"), user, version)

    def _fire(self, item: Tracked, trigger: str, user: str, version: str) -> None:
        definition = DEFINITIONS[item.workflow]
        current = 1 + len(item.accepted)
        body: dict[str, Any] = {"trigger": trigger, "data": TRANSITION_DATA.get(trigger, {})}
        sent = {"absent": None, "current": current, "older": current - 1, "newer": current + 1}
        if sent[version] is not None:
            body["version"] = sent[version]
        stale = version in ("older", "newer")

        view = self.world.get(item.url, user)
        rows_before = self.world.counts()
        r = self.world.post(f"{item.url}/transitions", user, body)

        status, code = expected_answer(definition, view, trigger, item.state, stale)
        answer = r.get_json()
        event(f"answer {r.status_code} {code or trigger}")
        assert (r.status_code, answer.get("code")) == (status, code), (user, body, answer)
        if r.status_code == 200:
            dest = definition.dest[(trigger, item.state)]
            assert (answer["state"], answer["version"]) == (dest, current + 1)
            item.accepted.append(trigger)
            item.state = dest
            event(f"reached {item.workflow}:{dest}")
        else:
            assert self.world.counts() == rows_before, "a refused request wrote something"
            if code == "invalid_transition":
                assert answer["errors"]["allowed"] == view.get_json()["allowed_triggers"]

    # -- invariants ----------------------------------------------------------------------
    @invariant()
    def every_instance_matches_its_accepted_transitions(self) -> None:
        for item in self.tracked:
            definition = DEFINITIONS[item.workflow]
            got = self.world.get(item.url, OBSERVER).get_json()
            assert got["state"] in definition.states
            assert (got["state"], got["version"]) == (item.state, 1 + len(item.accepted))

            events = self.world.get(f"{item.url}/history", OBSERVER).get_json()["items"]
            assert [e["trigger"] for e in events] == [None, *item.accepted]
            assert [e["version"] for e in events] == list(range(1, len(events) + 1))
            froms = [e["from"] for e in events]
            tos = [e["to"] for e in events]
            assert froms == [None, *tos[:-1]], "the history does not chain"
            assert tos[0] == definition.initial and tos[-1] == got["state"]


def test_random_walks_through_the_api_keep_the_invariants(world: World) -> None:
    run_state_machine_as_test(lambda: ApiMachine(world), settings=SETTINGS)
