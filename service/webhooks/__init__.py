"""Webhooks: integrations fire transitions inbound, subscriptions receive events outbound."""
