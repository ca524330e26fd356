"""Forms generated from field declarations: widgets, and submitted strings back to data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from service.entrypoints.web.forms import Choices, Clock, bind, initial, parse, to_local_input
from workflows.forms import Form
from workflows.spec import Choice, FieldSpec, FieldType, Label, TimeBound

SHANGHAI = ZoneInfo("Asia/Shanghai")
L = Label("中文", "English")


def spec(name: str, type_: FieldType, **kw: object) -> FieldSpec:
    return FieldSpec(name=name, type=type_, label=Label(f"{name}中", name), **kw)  # type: ignore[arg-type]


CHOICES = (Choice("a", Label("甲", "A")), Choice("b", Label("乙", "B")))
SPECS = (
    spec("title", FieldType.STRING, required=True, max_length=50),
    spec("body", FieldType.TEXT),
    spec("count", FieldType.INTEGER),
    spec("ratio", FieldType.NUMBER),
    spec("score", FieldType.RATING),
    spec("ok", FieldType.BOOLEAN, required=True),
    spec("day", FieldType.DATE),
    spec("at", FieldType.DATETIME),
    spec("due", FieldType.DATETIME, accepts_date=True),
    spec("kind", FieldType.CHOICE, choices=CHOICES),
    spec("kinds", FieldType.MULTI_CHOICE, choices=CHOICES, required=True),
    spec("owner", FieldType.USER),
    spec("people", FieldType.USERS),
    spec("dept", FieldType.DEPARTMENT),
)


def test_every_type_has_its_widget() -> None:
    choices = Choices(users=[("tom", "Tom")], departments=[("it", "IT")])
    fields = {f.name: f for f in bind(SPECS, MultiDict(), {}, "zh", choices)}
    widgets = {name: f.widget for name, f in fields.items()}
    assert widgets == {
        "title": "input",
        "body": "textarea",
        "count": "number",
        "ratio": "number",
        "score": "rating",
        "ok": "checkbox",
        "day": "date",
        "at": "datetime",
        "due": "date",
        "kind": "select",
        "kinds": "checkboxes",
        "owner": "select",
        "people": "multiselect",
        "dept": "select",
    }
    assert fields["kind"].options == [("a", "甲"), ("b", "乙")]
    assert fields["owner"].options == [("tom", "Tom")] and fields["dept"].options == [("it", "IT")]
    assert fields["title"].label == "title中" and fields["title"].required
    assert fields["ratio"].step == "any"
    english = bind(SPECS, MultiDict(), {}, "en", choices)
    assert english[0].label == "title" and english[9].options[0] == ("a", "A")


def test_bound_fields_keep_what_was_typed_and_carry_errors() -> None:
    raw = MultiDict([("title", "x"), ("kinds", "a"), ("kinds", "b"), ("ok", "y")])
    fields = {f.name: f for f in bind(SPECS, raw, {"title": ["bad"]}, "en", Choices())}
    assert fields["title"].value == "x" and fields["title"].errors == ["bad"]
    assert fields["kinds"].values == ["a", "b"] and fields["ok"].value == "y"


def test_an_override_turns_a_field_into_a_select() -> None:
    customer = spec("customer_id", FieldType.INTEGER, required=True)
    (bound,) = bind(
        [customer], MultiDict(), {}, "en", Choices(overrides={"customer_id": [("1", "Acme")]})
    )
    assert (bound.widget, bound.options) == ("select", [("1", "Acme")])
    assert parse([customer], MultiDict({"customer_id": "1"}), SHANGHAI) == {"customer_id": 1}


def test_parse_types_values_and_the_engine_accepts_them() -> None:
    form = MultiDict(
        [
            ("title", "Hello"),
            ("body", ""),
            ("count", " 12 "),
            ("ratio", "0.5"),
            ("score", "4"),
            ("day", "2026-11-10"),
            ("at", "2026-11-10T10:30"),
            ("due", "2026-11-20"),
            ("kind", "b"),
            ("kinds", "a"),
            ("kinds", "b"),
            ("owner", ""),
            ("people", "tom"),
            ("dept", "it"),
        ]
    )
    data = parse(SPECS, form, SHANGHAI)
    assert data == {
        "title": "Hello",
        "count": 12,
        "ratio": 0.5,
        "score": 4,
        "ok": False,  # unticked: false, not missing
        "day": "2026-11-10",
        "at": "2026-11-10T10:30:00+08:00",
        "due": "2026-11-20",
        "kind": "b",
        "kinds": ["a", "b"],
        "people": ["tom"],
        "dept": "it",
    }
    Form(SPECS).load(data)  # no error: the engine takes the parsed data as it is


def test_what_does_not_parse_is_handed_on_for_the_engine_to_name() -> None:
    form = MultiDict([("title", "   "), ("count", "twelve"), ("ratio", "x"), ("at", "soon")])
    data = parse(SPECS, form, SHANGHAI)
    assert data["title"] == "   " and data["count"] == "twelve" and data["at"] == "soon"
    assert data["kinds"] == []  # required and empty: "choose at least one"
    try:
        Form(SPECS).load(data)
    except Exception as err:  # noqa: BLE001 - InvalidData, checked by its errors
        errors = err.errors  # type: ignore[attr-defined]
    assert set(errors) == {"title", "count", "ratio", "at", "kinds"}


def test_initial_values_come_from_the_first_source_in_form_syntax() -> None:
    sources = [
        {"title": "from the trigger"},
        {"title": "ignored", "at": "2026-11-10T02:30:00+00:00", "kinds": ["a"], "ok": True},
    ]
    raw = initial(SPECS, sources, SHANGHAI)
    assert raw["title"] == "from the trigger"
    assert raw["at"] == "2026-11-10T10:30"
    assert raw.getlist("kinds") == ["a"] and raw["ok"] == "y"
    setter = spec("planned_at", FieldType.DATETIME, sets="planned_at")
    assert "planned_at" not in initial(
        [setter], [{"planned_at": "2026-11-10T02:30:00+00:00"}], SHANGHAI
    )
    assert to_local_input("not a time", SHANGHAI) == "not a time"


# -- time bounds: the browser's min and max ---------------------------------------------------
BOUNDED = (
    spec("visited_at", FieldType.DATETIME, not_after=TimeBound.NOW),
    spec("done_on", FieldType.DATE, not_after=TimeBound.NOW),
    spec(
        "planned_at",
        FieldType.DATETIME,
        not_before=TimeBound.NOW,
        backdate_roles=frozenset({"marketing_manager"}),
    ),
    spec("due", FieldType.DATETIME, accepts_date=True, not_before=TimeBound.NOW),
    spec("free", FieldType.DATETIME),
)


def bounds_for(role: str, now: datetime) -> dict[str, tuple[str | None, str | None]]:
    clock = Clock(now, SHANGHAI, role)
    fields = bind(BOUNDED, MultiDict(), {}, "en", Choices(clock=clock))
    return {f.name: (f.earliest, f.latest) for f in fields}


def test_time_inputs_get_whole_day_bounds_in_the_business_time_zone() -> None:
    late = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)  # 23:30 on the 2nd in Shanghai
    assert bounds_for("marketing_staff", late) == {
        "visited_at": (None, "2026-11-02T23:59"),
        "done_on": (None, "2026-11-02"),
        "planned_at": ("2026-11-02T00:00", None),
        "due": ("2026-11-02", None),
        "free": (None, None),
    }


def test_a_back_dating_role_gets_no_lower_bound() -> None:
    now = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)  # 00:30 on the 3rd in Shanghai
    bounds = bounds_for("marketing_manager", now)
    assert bounds["planned_at"] == (None, None)
    assert bounds["visited_at"] == (None, "2026-11-03T23:59")


def test_the_bounds_are_rendered_as_min_and_max() -> None:
    from jinja2 import Environment, FileSystemLoader

    templates = Path(__file__).resolve().parents[2] / "service/entrypoints/web/templates"
    env = Environment(loader=FileSystemLoader(templates), autoescape=True)
    env.globals["_"] = lambda text, **values: text % values if values else text
    macro = env.get_template("web/fields.html").module.field  # type: ignore[attr-defined]
    clock = Clock(datetime(2026, 11, 2, 2, 0, tzinfo=UTC), SHANGHAI, "marketing_staff")
    visited, done_on, planned, *_ = bind(BOUNDED, MultiDict(), {}, "en", Choices(clock=clock))
    assert 'type="datetime-local"' in str(macro(visited))
    assert 'max="2026-11-02T23:59"' in str(macro(visited))
    assert 'type="date"' in str(macro(done_on)) and 'max="2026-11-02"' in str(macro(done_on))
    assert 'min="2026-11-02T00:00"' in str(macro(planned)) and "max=" not in str(macro(planned))
