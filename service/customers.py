"""Key customers (regulation 3(一)): their tiers and the criteria that qualify them."""

from __future__ import annotations

TIERS = ("core", "important", "general")  # as the regulation lists them, core first
CRITERIA = ("major_revenue", "industry_reputation", "long_term_partner")
