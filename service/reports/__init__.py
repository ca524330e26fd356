"""Read-only figures: KPIs, compliance, and their exports."""
