"""The vocabulary and policy every layer shares: texts, domain errors, roles, runtime."""
