"""The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a Colander schema node.

VirtDancer's request bodies and answers are Colander schemas; this turns one into the JSON
Schema the OpenAPI document carries. What Colander cannot say by itself, a node says with
attributes of its own (Colander keeps any keyword a node is given):

- `nullable=True`: the value may also be null (a figure the driver does not report);
- `values=<node>` on a mapping: any keys, each value of that schema (`{"cpu_0": 1.5, ...}`);
- `any_of=(<node>, ...)` on an `AnyValue` node: one of these (an answer whose shape a query
  parameter chooses);
- `example=<value>`: an example for the reference page.

A Colander type of VirtDancer's own says its JSON Schema with a method `json_schema()`.

A mapping whose type says `unknown="raise"` allows no other keys than its children; any other
mapping allows them (Colander ignores them in a request).
"""

import colander

_TYPES = {
    colander.String: "string",
    colander.Integer: "integer",
    colander.Float: "number",
    colander.Boolean: "boolean",
}


def json_schema(node):
    """The JSON Schema of `node` (a Colander SchemaNode), as a new dict."""
    schema = _of_type(node)
    for validator in _validators(node.validator):
        schema.update(_of_validator(validator, schema.get("type")))
    if getattr(node, "nullable", False):
        if "enum" in schema:
            schema["enum"].append(None)
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
        else:
            schema = {"anyOf": [schema, {"type": "null"}]}
    if node.description:
        schema["description"] = str(node.description)
    example = getattr(node, "example", colander.null)
    if example is not colander.null:
        schema["examples"] = [example]
    return schema


def required_names(node):
    """The names of a mapping's children that must be there."""
    return [child.name for child in node.children if child.missing is colander.required]


def _of_type(node):
    typ = node.typ
    for kind, name in _TYPES.items():
        if isinstance(typ, kind):
            return {"type": name}
    if isinstance(typ, colander.DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(typ, colander.Mapping):
        schema = {"type": "object"}
        values = getattr(node, "values", None)
        if node.children:
            schema["properties"] = {child.name: json_schema(child) for child in node.children}
            required = required_names(node)
            if required:
                schema["required"] = required
        if values is not None:
            schema["additionalProperties"] = json_schema(values)
        elif typ.unknown == "raise":
            schema["additionalProperties"] = False
        if getattr(node, "min_properties", None):
            schema["minProperties"] = node.min_properties
        return schema
    if isinstance(typ, colander.Sequence):
        [item] = node.children
        return {"type": "array", "items": json_schema(item)}
    described = getattr(typ, "json_schema", None)
    if described is not None:
        return described()     # a type of VirtDancer's own says what it takes
    if isinstance(typ, AnyValue):
        choices = getattr(node, "any_of", None)
        return {"anyOf": [json_schema(choice) for choice in choices]} if choices else {}
    raise TypeError(f"no JSON Schema for the Colander type {type(typ).__name__} of "
                    f"{node.name!r}")


def _validators(validator):
    if validator is None:
        return []
    if isinstance(validator, colander.All):
        return [inner for each in validator.validators for inner in _validators(each)]
    return [validator]


def _of_validator(validator, json_type):
    if isinstance(validator, colander.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, colander.Range):
        bounds = {}
        if validator.min is not None:
            bounds["minimum"] = validator.min
        if validator.max is not None:
            bounds["maximum"] = validator.max
        return bounds
    if isinstance(validator, colander.Length):
        words = ("minItems", "maxItems") if json_type == "array" else ("minLength", "maxLength")
        bounds = {}
        if validator.min is not None:
            bounds[words[0]] = validator.min
        if validator.max is not None:
            bounds[words[1]] = validator.max
        return bounds
    if isinstance(validator, colander.Regex):
        return {"pattern": validator.match_object.pattern}
    # A validator JSON Schema cannot say (a function): the description says it in words.
    return {}


class AnyValue(colander.SchemaType):
    """Any JSON value, taken as it is."""

    def serialize(self, node, appstruct):
        return appstruct

    def deserialize(self, node, cstruct):
        return cstruct
