"""Validates the served OpenAPI document and writes the copy that Schemathesis fuzzes.

usage: openapi_check.py SERVED.json FUZZED.json ISSUES.txt

- Validates SERVED.json with openapi-spec-validator (OpenAPI 3.1 meta-schema plus its semantic
  checks) and writes every problem to ISSUES.txt (empty when there is none).
- Writes FUZZED.json: the same document with two kinds of gap filled, each also counted as an
  issue. Parameters declared `in: path` whose name is not in the path template are moved to
  `in: query` (required: false): Schemathesis silently drops such parameters, so their query
  strings would never be sent. CSV imports (`.../importCSV`) without a request body get the one
  the README describes (`text/csv`, or multipart with a `file`): without it Schemathesis sends
  no body and has nothing to vary. When the served document is right, FUZZED.json equals it.

Exits 0 either way; run.sh counts the issues as failures.
"""

from __future__ import annotations

import json
import re
import sys

from openapi_spec_validator import OpenAPIV31SpecValidator

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def resolve(doc: dict, param: dict) -> dict:
    while "$ref" in param:
        node = doc
        for part in param["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        param = node
    return param


def main() -> None:
    served, fuzzed, issues_path = sys.argv[1:4]
    with open(served, encoding="utf-8") as f:
        doc = json.load(f)

    issues = [f"openapi-spec-validator: {e.message}" for e in OpenAPIV31SpecValidator(doc).iter_errors()]

    moved = []
    for path, item in doc.get("paths", {}).items():
        template = set(re.findall(r"{([^}]+)}", path))
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = []
            for raw in op.get("parameters", []):
                param = resolve(doc, raw)
                if param.get("in") == "path" and param.get("name") not in template:
                    param = dict(param, **{"in": "query", "required": False})
                    moved.append(f"{method.upper()} {path}: {param['name']}")
                params.append(param)
            if "parameters" in op:
                op["parameters"] = params
    csv_body = {"required": True, "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {"type": "string", "format": "binary"}}}}}}
    for path, item in doc.get("paths", {}).items():
        op = item.get("post")
        if path.endswith("/importCSV") and isinstance(op, dict) and "requestBody" not in op:
            op["requestBody"] = csv_body
            issues.append(f"POST {path} documents no request body (it takes text/csv or multipart/form-data "
                          "with a `file`; fuzzed with both)")
    if moved:
        issues.append(
            f"{len(moved)} parameters are declared `in: path` but are not in the path template "
            "(query parameters; fuzzed as query parameters): " + "; ".join(moved)
        )

    with open(fuzzed, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    with open(issues_path, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in issues))


if __name__ == "__main__":
    main()
