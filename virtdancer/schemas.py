"""Colander schemas of requests: bodies and query parameters."""

import colander

from .hypervisor import ACTIONS
from .settings import NO, YES


class ActionBody(colander.MappingSchema):
    """`POST /vm/<uuid>/action`: `{"action": "start"}`, as JSON or as a form field."""

    action = colander.SchemaNode(
        colander.String(),
        validator=colander.OneOf(ACTIONS),
        description="one of " + ", ".join(ACTIONS),
    )


# -- query parameters ---------------------------------------------------------------------------

# The spellings `views.query.flag` reads (in any case), for the reference.
FLAG_SPELLINGS = sorted(YES | NO) + [""]


def _flag(description):
    return colander.SchemaNode(colander.String(), missing=colander.drop,
                               validator=colander.OneOf(FLAG_SPELLINGS),
                               description=description + " (yes/no: 1 or 0, true or false, ...)")


class DetailQuery(colander.MappingSchema):
    detail = _flag("every VM's full detail, not only its UUID, name and whether it is active")


class HistoryQuery(colander.MappingSchema):
    history = _flag("every sample kept, oldest first, rather than the newest one")


class NICQuery(HistoryQuery):
    filter = colander.SchemaNode(colander.String(), missing=colander.drop,
                                 validator=colander.OneOf(("physical",)),
                                 description="`physical`: only interfaces backed by a device")
