"""Every role set the use cases and entry points check, defined once (the roles themselves
are the definitions' vocabulary: workflows.spec.ROLES)."""

from __future__ import annotations

# Who sees every instance; technical and after-sales staff see their department's own.
SEE_ALL = frozenset({"marketing_staff", "marketing_manager", "management", "supervision", "admin"})
DEPARTMENT_ROLES = frozenset({"technical", "after_sales"})

# The KPIs (regulation 7(二)) and what keeps them: the figures, their exports, the
# dashboard, the compliance report and the half-yearly evaluations with their snapshot.
KPI_READERS = frozenset(
    {"marketing_staff", "marketing_manager", "management", "supervision", "admin"}
)
EVALUATORS = frozenset({"marketing_manager", "management"})
SURVEY_WRITERS = frozenset({"marketing_staff", "marketing_manager", "admin"})

# Customers: marketing adds and edits them; an admin may also change a tier outside a
# review. The tier review: marketing proposes, management decides.
CUSTOMER_EDITORS = frozenset({"marketing_staff", "marketing_manager"})
TIER_SETTERS = frozenset({"admin"})
PROPOSERS = frozenset({"marketing_staff", "marketing_manager"})
DECIDERS = frozenset({"management"})

# Feedback meetings, the annual plan (its visitors: one of marketing, one of support) and
# the official holidays.
MEETING_RECORDERS = frozenset({"marketing_staff", "marketing_manager"})
PLANNERS = frozenset({"marketing_manager"})
MARKETING_ROLES = ("marketing_staff",)
SUPPORT_ROLES = ("technical", "after_sales")
LOADERS = frozenset({"admin"})
