"""Shared pytest set-up: the project root importable for `tests.support`."""
