"""Validate hubd's JSON responses against the upstream OpenAPI file (shared/spec/jupyterhub-rest-api.yml).

The yml is kept verbatim, with the known errors listed in shared/spec/rest-api.md §5. Those are
corrected here, in one place, and nowhere else: fields the code returns as null although the yml types
them as non-null, and GET /services returning an object. Everything else is validated as written.
"""
import copy
import os

import jsonschema
import yaml

from hubd_harness import SOURCE_DIR

SPEC_PATH = os.environ.get("HUBD_OPENAPI",
                           os.path.join(SOURCE_DIR, "..", "shared", "spec", "jupyterhub-rest-api.yml"))

# Fields upstream returns as null (rest-api.md §3) although the yml gives them a non-null type.
NULLABLE = {
    "User": {"server", "pending", "last_activity", "user_info", "auth_state", "created"},
    "Server": {"pending", "started", "last_activity", "full_url", "full_progress_url"},
    "Token": {"expires_at", "last_activity", "session_id", "note", "oauth_client", "user", "service"},
    "Group": set(),
}

_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(SPEC_PATH) as f:
            _spec = yaml.safe_load(f)
    return _spec


def _allow_null(schema, fields):
    props = schema.get("properties", {})
    for name in fields:
        if name in props:
            t = props[name].get("type")
            if t is None:
                continue
            types = t if isinstance(t, list) else [t]
            if "null" not in types:
                props[name] = dict(props[name], type=types + ["null"])
            if "enum" in props[name] and None not in props[name]["enum"]:
                props[name] = dict(props[name], enum=props[name]["enum"] + [None])
    return schema


def schema_for(name):
    """The components/schemas entry `name` as a JSON Schema with $refs resolvable."""
    s = copy.deepcopy(spec()["components"]["schemas"][name])
    _allow_null(s, NULLABLE.get(name, ()))
    s["components"] = {"schemas": {}}
    for other, body in spec()["components"]["schemas"].items():
        s["components"]["schemas"][other] = _allow_null(copy.deepcopy(body), NULLABLE.get(other, ()))
    return s


def validate(instance, name):
    """Raise jsonschema.ValidationError unless `instance` matches components/schemas/`name`."""
    jsonschema.validate(instance, schema_for(name), cls=jsonschema.Draft202012Validator)


def validate_list(items, name):
    for item in items:
        validate(item, name)


_EXTENSIONS_PATH = os.path.join(SOURCE_DIR, "docs", "schemas", "hubd-roles-api.json")
_extensions = None


def validate_extension(instance, name):
    """Validate a model of hubd's own API extensions (docs/schemas/hubd-roles-api.json, $defs/`name`)."""
    global _extensions
    if _extensions is None:
        import json
        with open(_EXTENSIONS_PATH) as f:
            _extensions = json.load(f)
    schema = dict(_extensions, **{"$ref": f"#/$defs/{name}"})
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)
