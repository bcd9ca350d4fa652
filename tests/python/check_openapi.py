"""Checks the edge's OpenAPI 3.1 document and real responses against it.

usage: check_openapi.py OPENAPI_JSON EXCHANGES_JSON [--only PREFIXES | --except PREFIXES]
EXCHANGES_JSON: [{"operation": operationId, "status": 202, "content_type": "...", "body": "..."}]
Validates the document (openapi-spec-validator), then each body against the schema the document
gives for that operation and status (jsonschema, draft 2020-12, which OpenAPI 3.1 uses), and
requires every operation of the document to have been exercised; with `--only` those whose path
starts with one of the comma-separated PREFIXES, with `--except` all others (so each test checks
the routes it covers).
prints: {"checked": N, "operations": [...], "problems": [...]}
"""
import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource


def in_scope(path, scope):
    if scope is None:
        return True
    mode, prefixes = scope
    starts = any(path.startswith(prefix) for prefix in prefixes.split(","))
    return starts if mode == "--only" else not starts


def main(doc_path, exchanges_path, scope=None):
    with open(doc_path, encoding="utf-8") as f:
        doc = json.load(f)
    with open(exchanges_path, encoding="utf-8") as f:
        exchanges = json.load(f)
    validate(doc)
    # The whole document is the resource, so `#/components/schemas/…` references resolve in it.
    resource = Resource.from_contents({**doc, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    registry = Registry().with_resource("urn:paylater:openapi", resource)
    operations = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                operations[op["operationId"]] = (path, method, op)
    problems, seen = [], set()
    for exchange in exchanges:
        name = exchange["operation"]
        if name not in operations:
            problems.append(f"{name}: not in the document")
            continue
        seen.add(name)
        path, method, op = operations[name]
        status = str(exchange["status"])
        response = op["responses"].get(status)
        if response is None:
            problems.append(f"{method} {path}: status {status} is not documented")
            continue
        content = response.get("content", {})
        media = exchange["content_type"].split(";")[0].strip()
        if media not in content:
            problems.append(f"{method} {path} {status}: content type {media} is not documented")
            continue
        pointer = f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/{status}/content/{media.replace('/', '~1')}/schema"
        schema = {"$ref": f"urn:paylater:openapi#{pointer}"}
        validator = Draft202012Validator(schema, registry=registry)
        # JSON bodies are checked as JSON; others (the checkout page's HTML) as the string they are.
        body = json.loads(exchange["body"]) if media == "application/json" else exchange["body"]
        for error in validator.iter_errors(body):
            problems.append(f"{method} {path} {status}: {error.message} at {list(error.absolute_path)}")
    for name in sorted(set(operations) - seen):
        if in_scope(operations[name][0], scope):
            problems.append(f"{name}: documented but never exercised")
    print(json.dumps({"checked": len(exchanges), "operations": sorted(seen), "problems": problems}))


if __name__ == "__main__":
    scope = (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 and sys.argv[3] in ("--only", "--except") else None
    main(sys.argv[1], sys.argv[2], scope)
