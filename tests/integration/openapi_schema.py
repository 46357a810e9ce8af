"""Validate hubd's answers against the project's own API description, docs/rest-api.openapi.yml.

The file describes what hubd really answers, so it is used as written: a failure here means either
hubd or the file is wrong, and the fix goes in one of those two, never in this helper.
"""
import os
import re

import jsonschema
import yaml

from hubd_harness import SOURCE_DIR

SPEC_PATH = os.path.join(SOURCE_DIR, "docs", "rest-api.openapi.yml")
API_PREFIX = "/hub/api"

_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(SPEC_PATH) as f:
            _spec = yaml.safe_load(f)
    return _spec


def _check(instance, schema):
    # $refs in the file are "#/components/...": resolvable once the components sit at the root.
    root = dict(schema, components=spec()["components"])
    jsonschema.validate(instance, root, cls=jsonschema.Draft202012Validator)


def validate(instance, name):
    """Raise jsonschema.ValidationError unless `instance` matches components/schemas/`name`."""
    if name not in spec()["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in {SPEC_PATH}")
    _check(instance, {"$ref": f"#/components/schemas/{name}"})


def validate_list(items, name):
    for item in items:
        validate(item, name)


def _template_regex(template):
    # A path parameter is one segment; a shared server's name may be empty (default server).
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]*)", re.escape(template)) + "$")


def operation(method, path):
    """(template, operation) of the documented operation serving `method` on `path` (path under
    /hub/api, query ignored), or raise LookupError. Literal templates win over parametrised ones."""
    path = path.split("?", 1)[0]
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX):] or "/"
    matches = [t for t in spec()["paths"] if _template_regex(t).match(path)]
    matches.sort(key=lambda t: t.count("{"))
    for t in matches:
        op = spec()["paths"][t].get(method.lower())
        if op is not None:
            return t, op
    raise LookupError(f"{method} {path} is not in {SPEC_PATH}")


def validate_answer(method, path, response):
    """Check a `requests` response against the operation's documented answer for its status: the
    status must be documented and a JSON body must match the documented schema."""
    template, op = operation(method, path)
    status = str(response.status_code)
    answers = op["responses"]
    if status not in answers:
        raise AssertionError(f"{method} {template} answered {status}, documented: {sorted(answers)}")
    content = answers[status].get("content")
    if not content:
        return
    if "application/json" in content:
        schema = content["application/json"].get("schema")
        if schema is not None:
            _check(response.json(), schema)
