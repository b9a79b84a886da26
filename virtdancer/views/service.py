"""VirtDancer's Cornice service: validation errors in VirtDancer's one error shape.

Cornice renders a failed validation as `{"status": "error", "errors": [...]}`; VirtDancer's
service adds the `code` and `message` that every other error of VirtDancer's carries, and keeps
what it quotes of the client's input short (a 10 MB field is not echoed back).
"""

from cornice import Service

from .errors import error_body, json_response, shortened


class VirtDancerService(Service):
    """A Cornice service whose validation errors look like every other VirtDancer error."""

    def error_handler(self, request):
        status = request.errors.status or 400
        errors = [{"location": error.get("location"), "name": error.get("name"),
                   "description": _description(error)} for error in request.errors]
        message = errors[0]["description"] if errors else "invalid request"
        return json_response(status, {**error_body(status, message), "errors": errors})


# Fields whose values an error never quotes, not even in part.
SECRET_FIELDS = frozenset({"password"})


def _description(error):
    if error.get("name") in SECRET_FIELDS:
        return f"{error['name']} is missing, empty, too long or not a string"
    return shortened(str(error.get("description", "")))
