"""Where requests and commands come in: the app factory, the API, pages, webhooks, CLI."""
