"""kpi tallies: per-day KPI counts, and the triggers that mark the days to recount

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 08:00:00

Every row a KPI counts marks its day dirty (an append-only `kpi_dirty` row) from a
database trigger, whatever writes it: the service, an import, a hand-made UPDATE. The
worker recounts dirty days into `kpi_tallies`; until it has, `service/kpi.py` counts those
days from the rows themselves, so the figures are always exact.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DONE = "('visited', 'recorded', 'reported')"
RESOLVED = "('resolved', 'customer_confirmed')"

# The days of a user's visits (a visit counts for its visitors' departments).
USER_DAYS = (
    "SELECT DISTINCT {{day(v.planned_at)}} FROM visits v"
    " JOIN visit_visitors vv ON vv.visit_id = v.id WHERE vv.username = {row}.username"
)
# Taken, shared, by every trigger that finds its days in other rows, and tried, exclusive,
# by the refresher (service/jobs.py, KPI_REFRESH_LOCK): on PostgreSQL such a trigger cannot
# see rows another open transaction is writing, so the refresher must not recount (and
# clear) a day while a transaction that might have missed it is still open.
KPI_LOCK = 0x6B7069

# (name, table, event, WHEN condition or None, day queries); {day(x)} is the UTC day of
# the timestamp x, {ne} "is distinct from".
TRIGGERS = [
    ("kpi_visits_insert", "visits", "INSERT", None, ["SELECT {day(NEW.planned_at)}"]),
    (
        "kpi_visits_update",
        "visits",
        "UPDATE OF state, planned_at, customer_id",
        # only what a count depends on: done or not, when, whose (not every step)
        f"(OLD.state IN {DONE}) {{ne}} (NEW.state IN {DONE}) OR OLD.planned_at {{ne}} NEW.planned_at"
        " OR OLD.customer_id {ne} NEW.customer_id",
        ["SELECT {day(OLD.planned_at)}", "SELECT {day(NEW.planned_at)}"],
    ),
    ("kpi_visits_delete", "visits", "DELETE", None, ["SELECT {day(OLD.planned_at)}"]),
    (
        "kpi_visit_visitors_insert",
        "visit_visitors",
        "INSERT",
        None,
        ["SELECT {day(planned_at)} FROM visits WHERE id = NEW.visit_id"],
    ),
    (
        "kpi_visit_visitors_delete",
        "visit_visitors",
        "DELETE",
        None,
        ["SELECT {day(planned_at)} FROM visits WHERE id = OLD.visit_id"],
    ),
    (
        "kpi_visit_visitors_update",
        "visit_visitors",
        "UPDATE",
        None,
        [
            "SELECT {day(planned_at)} FROM visits WHERE id = OLD.visit_id",
            "SELECT {day(planned_at)} FROM visits WHERE id = NEW.visit_id",
        ],
    ),
    (
        "kpi_users_update",
        "users",
        "UPDATE OF department, username",
        "OLD.department {ne} NEW.department OR OLD.username {ne} NEW.username",
        [USER_DAYS.format(row="OLD"), USER_DAYS.format(row="NEW")],
    ),
    ("kpi_users_insert", "users", "INSERT", None, [USER_DAYS.format(row="NEW")]),
    ("kpi_users_delete", "users", "DELETE", None, [USER_DAYS.format(row="OLD")]),
    (
        "kpi_customers_tier",
        "customers",
        "UPDATE OF tier",
        "OLD.tier {ne} NEW.tier",
        ["SELECT DISTINCT {day(planned_at)} FROM visits WHERE customer_id = NEW.id"],
    ),
    ("kpi_issues_insert", "issues", "INSERT", None, ["SELECT {day(NEW.created_at)}"]),
    (
        "kpi_issues_update",
        "issues",
        "UPDATE OF state, due_at, created_at",
        f"(OLD.state IN {RESOLVED}) {{ne}} (NEW.state IN {RESOLVED})"
        " OR OLD.due_at {ne} NEW.due_at OR OLD.created_at {ne} NEW.created_at",
        ["SELECT {day(OLD.created_at)}", "SELECT {day(NEW.created_at)}"],
    ),
    ("kpi_issues_delete", "issues", "DELETE", None, ["SELECT {day(OLD.created_at)}"]),
    (
        "kpi_events_insert",
        "transition_events",
        "INSERT",
        "NEW.workflow = 'issue' AND NEW.trigger IN ('confirm', 'resolve')",
        [
            "SELECT {day(NEW.at)} WHERE NEW.trigger = 'confirm'",
            "SELECT {day(created_at)} FROM issues WHERE id = NEW.instance_id"
            " AND NEW.trigger = 'resolve'",
        ],
    ),
    ("kpi_surveys_insert", "customer_surveys", "INSERT", None, ["SELECT {day(NEW.surveyed_at)}"]),
    (
        "kpi_surveys_update",
        "customer_surveys",
        "UPDATE",
        None,
        ["SELECT {day(OLD.surveyed_at)}", "SELECT {day(NEW.surveyed_at)}"],
    ),
    ("kpi_surveys_delete", "customer_surveys", "DELETE", None, ["SELECT {day(OLD.surveyed_at)}"]),
]
# A cooperation volume counts on its own date (new business) and for the customer's done
# visits (the volumes before and after each).
for _event, _row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
    _days = [
        f"SELECT {_row}.period_start",
        "SELECT DISTINCT {day(planned_at)} FROM visits"
        f" WHERE customer_id = {_row}.customer_id AND state IN {DONE}",
    ]
    if _event == "UPDATE":
        _days += [
            "SELECT OLD.period_start",
            "SELECT DISTINCT {day(planned_at)} FROM visits"
            f" WHERE customer_id = OLD.customer_id AND state IN {DONE}",
        ]
    TRIGGERS.append((f"kpi_volumes_{_event.lower()}", "cooperation_volumes", _event, None, _days))

# Every day that holds something a KPI counts, for the data already there.
EXISTING_DAYS = [
    "SELECT {day(planned_at)} FROM visits",
    "SELECT {day(created_at)} FROM issues",
    "SELECT {day(at)} FROM transition_events WHERE workflow = 'issue' AND trigger = 'confirm'",
    "SELECT {day(surveyed_at)} FROM customer_surveys",
    "SELECT period_start FROM cooperation_volumes",
]


def _render(sql: str, dialect: str) -> str:
    import re

    def day(match: re.Match[str]) -> str:
        column = match.group(1)
        if dialect == "postgresql":
            return f"(({column}) AT TIME ZONE 'UTC')::date"
        return f"date({column})"

    sql = re.sub(r"\{day\(([^)]*)\)\}", day, sql)
    return sql.replace("{ne}", "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT")


def upgrade():
    op.create_table('kpi_tallies',
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=150), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=24, scale=4, asdecimal=False), nullable=False),
    sa.PrimaryKeyConstraint('measure', 'key', 'day', name=op.f('pk_kpi_tallies')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('kpi_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_tallies_day', ['day'], unique=False)
    op.create_table('kpi_dirty',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_dirty'))
    )
    with op.batch_alter_table('kpi_dirty', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_dirty_day'), ['day'], unique=False)
    with op.batch_alter_table('transition_events', schema=None) as batch_op:
        # a day's confirmations; an issue's last resolution is found by ix_events_instance
        batch_op.create_index('ix_events_trigger_when', ['workflow', 'trigger', 'at'], unique=False)
        batch_op.drop_index('ix_events_trigger_at')

    dialect = op.get_bind().dialect.name
    for name, table, event, when, days in TRIGGERS:
        inserts = [_render(f"INSERT INTO kpi_dirty (day) {q}", dialect) for q in days]
        condition = f" WHEN ({_render(when, dialect)})" if when else ""
        if dialect == "postgresql":
            if any(" FROM " in q for q in days):
                inserts.insert(0, f"PERFORM pg_advisory_xact_lock_shared({KPI_LOCK})")
            body = "; ".join(inserts)
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS"
                f" $$ BEGIN {body}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition}"
                f" EXECUTE FUNCTION {name}()"
            )
        else:
            body = "".join(f"{i}; " for i in inserts)
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition}"
                f" BEGIN {body}END"
            )
    # The audit trail is append-only (the KPIs count its resolutions and confirmations).
    for event in ("UPDATE", "DELETE"):
        name = f"events_no_{event.lower()}"
        if dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " RAISE EXCEPTION 'transition_events is append-only'; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON transition_events FOR EACH ROW"
                f" EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON transition_events FOR EACH ROW"
                " BEGIN SELECT RAISE(ABORT, 'transition_events is append-only'); END"
            )
    union = " UNION ".join(_render(q, dialect) for q in EXISTING_DAYS)
    op.execute(f"INSERT INTO kpi_dirty (day) SELECT * FROM ({union}) AS days")


def downgrade():
    dialect = op.get_bind().dialect.name
    appended = [(f"events_no_{e}", "transition_events", e, None, []) for e in ("update", "delete")]
    for name, table, _event, _when, _days in TRIGGERS + appended:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql" else ""))
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table('transition_events', schema=None) as batch_op:
        batch_op.create_index('ix_events_trigger_at', ['workflow', 'trigger', 'instance_id', 'at'], unique=False)
        batch_op.drop_index('ix_events_trigger_when')
    with op.batch_alter_table('kpi_dirty', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_dirty_day'))
    op.drop_table('kpi_dirty')
    with op.batch_alter_table('kpi_tallies', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_tallies_day')
    op.drop_table('kpi_tallies')
