"""What users and integrations do: one module per use case, over the store."""
