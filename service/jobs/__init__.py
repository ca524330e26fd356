"""RQ's entry points and what runs them: the outbox relay, schedules and the worker."""
