"""Response and request schemas, and OpenAPI components derived from the definitions."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from marshmallow import Schema, fields

from service.entrypoints.api.common import page_schema
from service.store.kinds import RECTIFICATION, Kind
from workflows import Registry

OWN_FIELDS: dict[str, Any] = {
    "customer_id": lambda: fields.Integer(allow_none=True),
    "planned_at": lambda: fields.DateTime(),
    "visitors": lambda: fields.List(fields.String()),
    "topics": lambda: fields.List(fields.String()),
    "place": lambda: fields.String(allow_none=True),
    "purpose": lambda: fields.String(allow_none=True),
    "visit_id": lambda: fields.Integer(allow_none=True),
    "title": lambda: fields.String(),
    "description": lambda: fields.String(),
    "category": lambda: fields.String(),
    "severity": lambda: fields.String(),
    "responsible_department": lambda: fields.String(allow_none=True),
    "responsible_person": lambda: fields.String(allow_none=True),
    "due_at": lambda: fields.DateTime(allow_none=True),
    "department": lambda: fields.String(),
    "findings": lambda: fields.String(),
    "related": lambda: fields.List(fields.Dict()),
}


class HistoryEventSchema(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(
        required=True, metadata={"description": "username, integration:NAME or system"}
    )
    source = fields.String(required=True, metadata={"enum": ["web", "api", "webhook", "job"]})
    trigger = fields.String(allow_none=True, metadata={"description": "null for the creation"})
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String(required=True)
    version = fields.Integer(required=True)
    data = fields.Dict()


HistoryPage = page_schema(HistoryEventSchema, "HistoryPage")


class DeadlineSchema(Schema):
    kind = fields.String()
    due_at = fields.DateTime()
    state = fields.String()


@cache
def instance_schema(kind: Kind) -> type[Schema]:
    spec: dict[str, fields.Field[Any]] = {
        "id": fields.Integer(),
        "workflow": fields.String(),
        "definition_version": fields.Integer(),
        "state": fields.String(),
        "version": fields.Integer(),
        "data": fields.Dict(metadata={"description": "data.create, and data[TRIGGER]"}),
        "allowed_triggers": fields.List(fields.String()),
        "deadlines": fields.List(fields.Nested(DeadlineSchema)),
        "overdue": fields.Boolean(),
        "created_by": fields.String(),
        "created_at": fields.DateTime(),
        "updated_at": fields.DateTime(),
    }
    for name in kind.fields:
        spec[name] = OWN_FIELDS[name]()
    return Schema.from_dict(spec, name=kind.workflow.title())


def register_forms(spec: APISpec, registry: Registry, kinds: list[Kind]) -> None:
    """Creation and transition request bodies, per workflow, from the field declarations."""
    for kind in kinds:
        workflow = registry.get(kind.workflow)
        base = kind.workflow.title()
        create = _form_component(workflow.create_form.fields)
        if kind is RECTIFICATION:
            create["properties"]["related"] = {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "workflow": {"type": "string", "enum": ["visit", "issue"]},
                        "id": {"type": "integer"},
                    },
                },
            }
        spec.components.schema(f"{base}Create", component=create)
        variants = []
        for t in workflow.definition.transitions:
            name = f"{base}{''.join(p.title() for p in t.trigger.split('_'))}Data"
            if name not in spec.components.schemas:
                component = _form_component(t.fields)
                component["description"] = f"data for '{t.trigger}': {t.label.en} / {t.label.zh}"
                spec.components.schema(name, component=component)
                variants.append({"$ref": f"#/components/schemas/{name}"})
        spec.components.schema(
            f"{base}TransitionRequest",
            component={
                "type": "object",
                "required": ["trigger"],
                "properties": {
                    "trigger": {"type": "string", "enum": list(workflow.definition.triggers)},
                    "version": {
                        "type": "integer",
                        "description": "the version you saw; 409 version_conflict if stale",
                    },
                    # anyOf: forms of different triggers may have the same shape
                    "data": {"anyOf": variants} if variants else {"type": "object"},
                },
                "additionalProperties": False,
            },
        )


TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string", "maxLength": 200},
    "text": {"type": "string", "maxLength": 20000},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "user": {"type": "string", "description": "a username"},
    "users": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "department": {"type": "string", "description": "a department code"},
    "rating": {"type": "integer", "minimum": 1, "maximum": 5},
}


def _time_bounds(f: Any) -> str:
    """The field's declared time bounds in words (422 invalid_data when not met)."""
    parts = []
    if f.not_after is not None:
        parts.append("not in the future: at the latest now plus the clock-skew allowance")
    if f.not_before is not None:
        who = ", ".join(sorted(f.backdate_roles))
        parts.append(
            "not in the past: at the earliest now minus the clock-skew allowance"
            + (f"; {who} may back-date it (recorded in data._backdated)" if who else "")
        )
    if parts and (f.type.value == "date" or f.accepts_date):
        parts.append("a date compares with today in the business time zone")
    return "; ".join(parts)


def _form_component(form_fields: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in form_fields:
        if f.type.value == "choice":
            prop: dict[str, Any] = {"type": "string", "enum": list(f.choice_values)}
        elif f.type.value == "multi_choice":
            prop = {
                "type": "array",
                "items": {"type": "string", "enum": list(f.choice_values)},
                "uniqueItems": True,
            }
        elif f.accepts_date:
            prop = {
                "anyOf": [
                    {"type": "string", "format": "date-time"},
                    {"type": "string", "format": "date"},
                ]
            }
        else:
            prop = dict(TYPE_SCHEMAS[f.type.value])
        if f.max_length and f.type.value in ("string", "text"):
            prop["maxLength"] = int(f.max_length)
        if f.min is not None:
            prop["minimum"] = f.min
        if f.max is not None:
            prop["maximum"] = f.max
        prop["title"] = f.label.en
        prop["description"] = f"{f.label.zh}" + (f" — {f.help.en}" if f.help else "")
        bounds = _time_bounds(f)
        if bounds:
            prop["description"] += f" ({bounds})"
        properties[f.name] = prop
        if f.required:
            required.append(f.name)
    component: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        component["required"] = required
    return component
