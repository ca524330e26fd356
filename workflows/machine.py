"""The one `transitions.Machine` per definition version, shared by every instance.

Instances are never added to it (`add_model` would keep them referenced and overwrite the
state read from the database); each fire hands it a throw-away cursor holding the state.
It is not queued (a queued shared machine runs one thread's trigger inside another's call)
and not locked (`LockedMachine` serialises every model behind one lock): it holds no
per-instance state, so threads can share it freely.

The engine registers no callbacks: a transition's effects are the events the engine
returns. So events run on a lean path that checks the source, evaluates the conditions
and sets the state, without the callback pipeline that would find nothing to call; the
constructor proves the pipeline is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transitions import Event, EventData, Machine, MachineError


class _LeanEvent(Event):
    def trigger(self, model: Any, *args: Any, **kwargs: Any) -> bool:
        source = model.state
        candidates = self.transitions.get(source)
        if not candidates:
            raise MachineError(
                f"{self.machine.name}Can't trigger event {self.name} from state {source}!"
            )
        event_data = None
        for transition in candidates:
            if transition.conditions:
                if event_data is None:
                    state = self.machine.states[source]
                    event_data = EventData(state, self, self.machine, model, args, kwargs)
                event_data.transition = transition
                if not all(cond.check(event_data) for cond in transition.conditions):
                    continue
            model.state = transition.dest
            return True
        return False


class SharedMachine(Machine):
    """A callback-free machine with no models, for every instance of one definition."""

    event_cls = _LeanEvent

    def __init__(
        self,
        states: Sequence[str],
        transitions: Sequence[dict[str, Any]],
        initial: str,
        name: str,
    ) -> None:
        super().__init__(
            model=None,
            states=list(states),
            transitions=list(transitions),
            initial=initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
            queued=False,
            name=name,
        )
        self._prove_callback_free()

    def _prove_callback_free(self) -> None:
        machine_callbacks = (
            self.prepare_event,
            self.before_state_change,
            self.after_state_change,
            self.finalize_event,
            self.on_exception,
        )
        state_callbacks = [c for s in self.states.values() for c in (s.on_enter, s.on_exit)]
        transition_callbacks = [
            c
            for event in self.events.values()
            for ts in event.transitions.values()
            for t in ts
            for c in (t.prepare, t.before, t.after)
        ]
        if any(machine_callbacks) or any(state_callbacks) or any(transition_callbacks):
            raise ValueError("a shared machine must not have callbacks: return events instead")
        if self.models:
            raise ValueError("a shared machine must not hold models")
