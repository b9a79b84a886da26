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
                   "description": shortened(str(error.get("description", "")))}
                  for error in request.errors]
        message = errors[0]["description"] if errors else "invalid request"
        return json_response(status, {**error_body(status, message), "errors": errors})
