"""The instances' schemas: requests generated from the engine's own forms (workflows/forms.py)
through apispec's MarshmallowPlugin, replies derived from the store's columns."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from apispec import APISpec
from marshmallow import Schema, fields

from service.core.texts import msg
from service.entrypoints.api.common import page_schema
from service.store.kinds import RECTIFICATION, Kind
from service.store.models.types import UTCDateTime
from workflows import Registry, Workflow
from workflows.forms import Form
from workflows.spec import FieldSpec


class HistoryEventSchema(Schema):
    at = fields.String(required=True, metadata={"format": "date-time"})
    actor = fields.String(
        required=True, metadata={"description": "username, integration:NAME or system"}
    )
    source = fields.String(required=True, metadata={"enum": ["web", "api", "webhook", "job"]})
    trigger = fields.String(allow_none=True, metadata={"description": "null for the creation"})
    from_ = fields.String(attribute="from", data_key="from", allow_none=True)
    to = fields.String(required=True)
    version = fields.Integer(required=True)
    data = fields.Dict()


HistoryPage = page_schema(HistoryEventSchema, "HistoryPage")


class DeadlineSchema(Schema):
    kind = fields.String()
    due_at = fields.String(metadata={"format": "date-time"})
    state = fields.String()


class RelatedSchema(Schema):
    workflow = fields.String(required=True, metadata={"enum": ["visit", "issue"]})
    id = fields.Integer(required=True)


def _column_field(column: sa.Column[Any]) -> fields.Field[Any]:
    """How the representation shows a workflow's own column (`iso()` for the times)."""
    opts: dict[str, Any] = {"allow_none": bool(column.nullable)}
    if column.name == "related":
        return fields.List(fields.Nested(RelatedSchema), **opts)
    if isinstance(column.type, UTCDateTime):
        return fields.String(metadata={"format": "date-time"}, **opts)
    if isinstance(column.type, sa.Boolean):
        return fields.Boolean(**opts)
    if isinstance(column.type, sa.Integer):
        return fields.Integer(**opts)
    if isinstance(column.type, sa.JSON):
        return fields.List(fields.String(), **opts)
    return fields.String(**opts)


@cache
def instance_schema(kind: Kind) -> type[Schema]:
    """An instance's representation (usecases/representation.py), its own fields by column."""
    spec: dict[str, fields.Field[Any]] = {
        "id": fields.Integer(required=True),
        "workflow": fields.String(required=True),
        "definition_version": fields.Integer(required=True),
        "state": fields.String(required=True),
        "version": fields.Integer(required=True),
    }
    for name in kind.fields:
        spec[name] = _column_field(kind.table.columns[name])
    spec.update(
        {
            "created_by": fields.String(allow_none=True),
            "data": fields.Dict(metadata={"description": "data.create, and data[TRIGGER]"}),
            "allowed_triggers": fields.List(fields.String()),
            "deadlines": fields.List(fields.Nested(DeadlineSchema)),
            "overdue": fields.Boolean(),
            "created_at": fields.String(metadata={"format": "date-time"}),
            "updated_at": fields.String(metadata={"format": "date-time"}),
        }
    )
    return Schema.from_dict(spec, name=kind.workflow.title())


def _form_schema(form: Form, name: str, attrs: dict[str, Any]) -> type[Schema]:
    """The form's own marshmallow schema under `name`, with `attrs` (fields, messages) added."""
    return type(name, (type(form.schema),), attrs)


@cache
def creation_schema(kind: Kind, workflow: Workflow) -> type[Schema]:
    """A creation body: the definition's creation form (a notice adds `related`)."""
    attrs: dict[str, Any] = {
        "invalid_message": msg("invalid %(kind)s fields", kind=kind.title),
        "__doc__": f"A new {kind.workflow}: the creation form of its definition.",
    }
    if kind is RECTIFICATION:  # the service's own creation field, optional (api-contract.md),
        # checked by the use case (usecases/references.py)
        attrs["related"] = fields.Raw(
            metadata={"type": "array", "items": {"$ref": "#/components/schemas/Related"}}
        )
    return _form_schema(workflow.create_form, f"{kind.workflow.title()}Create", attrs)


def _variant_name(kind: Kind, trigger: str) -> str:
    return f"{kind.workflow.title()}{''.join(p.title() for p in trigger.split('_'))}Data"


@cache
def transition_schema(kind: Kind, workflow: Workflow) -> type[Schema]:
    """A transition body: `trigger`, `version`, and `data` one of the triggers' forms.

    Only its shape is checked when the request is parsed: the trigger and its data are the
    engine's to check, after visibility, version, state and role (api-contract.md)."""
    variants = [
        {"$ref": f"#/components/schemas/{name}"}
        for name in dict.fromkeys(_variant_name(kind, t) for t in workflow.definition.triggers)
    ]
    spec: dict[str, fields.Field[Any]] = {
        "trigger": fields.String(
            required=True, metadata={"enum": list(workflow.definition.triggers)}
        ),
        "version": fields.Integer(
            strict=True,
            allow_none=True,
            metadata={"description": "the version you saw; 409 version_conflict if stale"},
        ),
        # anyOf: forms of different triggers may have the same shape
        "data": fields.Dict(allow_none=True, metadata={"anyOf": variants}),
    }
    schema = Schema.from_dict(spec, name=f"{kind.workflow.title()}TransitionRequest")
    return type(schema.__name__, (schema,), {"invalid_message": msg("invalid transition request")})


def register_forms(spec: APISpec, registry: Registry, kinds: list[Kind]) -> None:
    """The forms' components, generated by the MarshmallowPlugin from the engine's schemas."""
    for kind in kinds:
        workflow = registry.get(kind.workflow)
        create = workflow.create_form
        name = f"{kind.workflow.title()}Create"
        spec.components.schema(name, schema=creation_schema(kind, workflow))
        _describe_fields(spec, name, create.fields)
        for t in workflow.definition.transitions:
            name = _variant_name(kind, t.trigger)
            if name in spec.components.schemas:
                continue
            form = workflow.forms[(t.trigger, t.sources[0])]
            described = {"description": f"data for '{t.trigger}': {t.label.en} / {t.label.zh}"}
            spec.components.schema(name, component=described, schema=form.schema)
            _describe_fields(spec, name, form.fields)


def _describe_fields(spec: APISpec, name: str, specs: tuple[FieldSpec, ...]) -> None:
    """Add the labels and time bounds of a generated form component's properties (the types
    and limits are the form schema's own)."""
    component = spec.components.schemas[name]
    if "required" in component:  # in the definition's order (apispec sorts them)
        component["required"] = [f.name for f in specs if f.name in component["required"]]
    properties = component["properties"]
    for f in specs:
        prop = properties[f.name]
        if f.accepts_date:  # the engine's due times take a bare date too
            nullable = prop.pop("nullable", None)
            prop.pop("type", None)
            prop.pop("format", None)
            prop["anyOf"] = [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ]
            if nullable:
                prop["nullable"] = True
        prop["title"] = f.label.en
        prop["description"] = f"{f.label.zh}" + (f" — {f.help.en}" if f.help else "")
        bounds = _time_bounds(f)
        if bounds:
            prop["description"] += f" ({bounds})"


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


# -- definitions (GET /definitions, meta.describe) --------------------------------------
class LabelSchema(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)


class ChoiceSchema(Schema):
    value = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)


class FieldSchema(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    label = fields.Nested(LabelSchema, allow_none=True)
    help = fields.Nested(LabelSchema, allow_none=True)
    choices = fields.List(fields.Nested(ChoiceSchema))
    max_length = fields.Integer()
    # as declared (an integer stays one): a Float would dump 1 as 1.0
    min = fields.Raw(metadata={"type": "number"})
    max = fields.Raw(metadata={"type": "number"})


class StateDeadlineSchema(Schema):
    kind = fields.String(required=True)
    label = fields.Nested(LabelSchema, allow_none=True)


class StateSchema(Schema):
    name = fields.String(required=True)
    label = fields.Nested(LabelSchema, allow_none=True)
    final = fields.Boolean(required=True)
    deadline = fields.Nested(StateDeadlineSchema, allow_none=True)


class CreationSchema(Schema):
    roles = fields.List(fields.String(), required=True)
    fields_ = fields.List(
        fields.Nested(FieldSchema), attribute="fields", data_key="fields", required=True
    )


class TransitionSchema(Schema):
    trigger = fields.String(required=True)
    sources = fields.List(fields.String(), required=True)
    dest = fields.String(required=True)
    label = fields.Nested(LabelSchema, allow_none=True)
    roles = fields.List(fields.String(), required=True)
    participation = fields.List(fields.String(), required=True)
    exempt_roles = fields.List(fields.String(), required=True)
    guards = fields.List(fields.String(), required=True)
    fields_ = fields.List(
        fields.Nested(FieldSchema), attribute="fields", data_key="fields", required=True
    )


class DefinitionSchema(Schema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    label = fields.Nested(LabelSchema, allow_none=True)
    initial = fields.String(required=True)
    states = fields.List(fields.Nested(StateSchema), required=True)
    create = fields.Nested(CreationSchema, required=True)
    transitions = fields.List(fields.Nested(TransitionSchema), required=True)
