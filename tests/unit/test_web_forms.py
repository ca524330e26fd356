"""Forms generated from field declarations: widgets, and submitted strings back to data."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from service.web.forms import Choices, bind, initial, parse, to_local_input
from workflows.forms import Form
from workflows.spec import Choice, FieldSpec, FieldType, Label

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
