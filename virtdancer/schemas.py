"""Colander schemas of request bodies."""

import colander

from .hypervisor import ACTIONS


class ActionBody(colander.MappingSchema):
    """`POST /vm/<uuid>/action`: `{"action": "start"}`, as JSON or as a form field."""

    action = colander.SchemaNode(
        colander.String(),
        validator=colander.OneOf(ACTIONS),
        description="one of " + ", ".join(ACTIONS),
    )
