"""The engine's and marshmallow's field messages, marked for translation.

The engine answers in English (the API's language); the pages show a field's errors in the
page's language through the catalog, falling back to the English text for any not listed.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the conventional name pybabel extracts
    return text


FIELD_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid datetime."),
    N_("Not a valid aware datetime."),
    N_("Not a valid date."),
    N_("Not a valid boolean."),
    N_("Not a valid string."),
    N_("Not a valid list."),
    N_("Must not be blank."),
    N_("Choose at least one."),
    N_("Each value may appear only once."),
    N_("Unknown field."),
    N_("must be ticked"),
    N_("must be in the future"),
    N_("must not be in the future"),
    N_("must not be after today"),
    N_("must not be in the past"),
    N_("must not be before today"),
    N_("must not be in the past (a date means the end of that working day)"),
    N_("required when satisfaction is 2 or lower"),
)
