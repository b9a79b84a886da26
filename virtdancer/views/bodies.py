"""Request bodies: JSON (or a form, as the first VirtDancer's clients send), read safely.

Cornice's own body reading gives a JSON document nested too deeply, or text that Python cannot
encode (a lone surrogate such as "\\ud800"), to the view, where they end as 500s. VirtDancer's
validator reads the body first and refuses those with a 400 that says what is wrong.
"""

import json

from cornice.validators import colander_body_validator

FORM = "application/x-www-form-urlencoded"


def _refuse(request, description):
    request.errors.add("body", None, description)


def body_validator(request, **kwargs):
    """Cornice validator: the body, checked against the view's Colander schema.

    What is refused here is refused without quoting the body: it may hold a password.
    """
    if request.body and request.content_type not in (FORM, "application/json", ""):
        return _refuse(request, f"the body is to be JSON (application/json) or a form ({FORM})")
    if request.content_type != FORM and request.body:
        try:
            value = json.loads(request.body.decode("utf-8"))
        except UnicodeDecodeError:
            return _refuse(request, "the body is not UTF-8 text")
        except RecursionError:
            return _refuse(request, "the JSON body is nested too deeply")
        except ValueError as error:
            return _refuse(request, f"the body is not JSON: {error}")
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return _refuse(request, "the body holds text that is not Unicode (a lone surrogate "
                                    "such as \\ud800)")
        if not isinstance(value, dict):
            return _refuse(request, "the body is to be a JSON object")
    return colander_body_validator(request, **kwargs)
