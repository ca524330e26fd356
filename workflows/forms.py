"""Form validation derived from field declarations: one marshmallow schema per form, built once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from workflows.errors import InvalidData
from workflows.spec import FieldSpec, FieldType

STRING_MAX = 200
TEXT_MAX = 20_000
NAME_MAX = 150
UnknownOption = Literal["exclude", "include", "raise"]


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _field(spec: FieldSpec) -> fields.Field[Any]:
    opts: dict[str, Any] = {"required": spec.required}
    if not spec.required:
        opts["allow_none"] = True
    t = spec.type
    if t in (FieldType.STRING, FieldType.TEXT):
        limit = spec.max_length or (STRING_MAX if t is FieldType.STRING else TEXT_MAX)
        checks: list[Any] = [validate.Length(max=int(limit))]
        if spec.required:
            checks.append(_not_blank)
        return fields.String(validate=checks, **opts)
    if t in (FieldType.INTEGER, FieldType.RATING):
        lo, hi = (1, 5) if t is FieldType.RATING else (spec.min, spec.max)
        rng = [validate.Range(min=lo, max=hi)] if lo is not None or hi is not None else []
        return fields.Integer(strict=True, validate=rng, **opts)
    if t is FieldType.NUMBER:
        rng = (
            [validate.Range(min=spec.min, max=spec.max)]
            if spec.min is not None or spec.max is not None
            else []
        )
        return fields.Float(allow_nan=False, validate=rng, **opts)
    if t is FieldType.BOOLEAN:
        return fields.Boolean(**opts)
    if t is FieldType.DATE:
        return fields.Date(**opts)
    if t is FieldType.DATETIME:
        return _DueDateTime(**opts) if spec.accepts_date else fields.AwareDateTime(**opts)
    if t is FieldType.CHOICE:
        return fields.String(validate=validate.OneOf(spec.choice_values), **opts)
    if t is FieldType.MULTI_CHOICE:
        item = fields.String(validate=validate.OneOf(spec.choice_values))
        return fields.List(item, validate=_unique_nonempty(spec.required), **opts)
    if t in (FieldType.USER, FieldType.DEPARTMENT):
        return fields.String(validate=[validate.Length(min=1, max=NAME_MAX), _not_blank], **opts)
    if t is FieldType.USERS:
        item = fields.String(validate=[validate.Length(min=1, max=NAME_MAX), _not_blank])
        return fields.List(item, validate=_unique_nonempty(spec.required), **opts)
    if t is FieldType.GEO:
        return fields.Nested(CheckIn, **opts)
    raise AssertionError(f"unhandled field type {t}")  # pragma: no cover - FieldType is closed


class CheckIn(Schema):
    """A check-in as a device reports it: where (WGS 84 degrees), how precisely (metres, the
    Geolocation API's `accuracy`) and when by the device's clock."""

    class Meta:
        unknown = RAISE

    latitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    longitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))
    accuracy = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=100_000, min_inclusive=False),
    )
    device_time = fields.AwareDateTime(required=True)


class _DueDateTime(fields.AwareDateTime):
    """An aware datetime, or a bare date (kept as a date: the end of that working day)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        return super()._deserialize(value, attr, data, **kwargs)


def _unique_nonempty(required: bool) -> Any:
    def check(values: list[Any]) -> None:
        if required and not values:
            raise ValidationError("Choose at least one.")
        if len(set(values)) != len(values):
            raise ValidationError("Each value may appear only once.")

    return check


class Form:
    """Validates and serialises the data of one form (a transition's, or the creation's)."""

    __slots__ = ("fields", "_schema", "_names")

    def __init__(self, specs: Sequence[FieldSpec], unknown: UnknownOption = RAISE) -> None:
        self.fields = tuple(specs)
        self._names = frozenset(f.name for f in specs)
        schema_cls = Schema.from_dict({f.name: _field(f) for f in specs}, name="Form")
        self._schema = schema_cls(unknown=unknown)

    @property
    def schema(self) -> Schema:
        """The marshmallow schema the form validates with (documents such as OpenAPI read it)."""
        return self._schema

    def load(self, data: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validated, typed values; raise `InvalidData` with messages per field."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise InvalidData({"data": ["Must be an object."]})
        if not self.fields and not data:  # a form with nothing to ask: skip the schema
            return {}
        try:
            loaded: dict[str, Any] = self._schema.load(data)
        except ValidationError as err:
            raise InvalidData(flatten(err.messages)) from None
        return loaded

    @staticmethod
    def dump(values: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-ready values: validated values are JSON types but for dates and times."""
        return {name: _json(value) for name, value in values.items()}


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):  # a check-in
        return {name: _json(item) for name, item in value.items()}
    return value


def flatten(messages: Any) -> dict[str, list[str]]:
    """marshmallow's messages as messages per field (a list's items named in the message)."""
    if isinstance(messages, list):
        return {"_schema": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for name, value in messages.items():
        if isinstance(value, dict):  # list items: {index: [messages]}
            out[name] = [f"item {i}: {m}" for i, ms in value.items() for m in _as_list(ms)]
        else:
            out[name] = [str(m) for m in _as_list(value)]
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


__all__ = ["EXCLUDE", "RAISE", "Form", "flatten"]
