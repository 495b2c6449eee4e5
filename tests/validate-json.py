#!/usr/bin/env python3
"""Validate JSON files against a JSON Schema (draft 2020-12), for the tests.

    validate-json.py --check-schema SCHEMA...   each file is a valid 2020-12 schema
    validate-json.py SCHEMA FILE...             each FILE is valid against SCHEMA

Prints one line per problem (file, JSON path, message). Exit status: 0 all
valid, 1 something invalid or unreadable, 77 python3-jsonschema is missing
(the automake harness counts that as a skip).
"""
import json
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    print("validate-json: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def load(path):
    # Duplicate keys are a bug in a writer; json.load would keep the last.
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError("duplicate keys: " + ", ".join(sorted(dup)))
        return dict(pairs)

    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_duplicates)


def where(error):
    return "$" + "".join(
        "[%d]" % p if isinstance(p, int) else "." + str(p) for p in error.absolute_path
    )


def check_schemas(paths):
    bad = 0
    for path in paths:
        try:
            schema = load(path)
            if schema.get("$schema") != DRAFT:
                raise ValueError("$schema is not " + DRAFT)
            if not schema.get("$id"):
                raise ValueError("no $id")
            Draft202012Validator.check_schema(schema)
        except Exception as e:  # any failure is this file's problem
            print("%s: not a valid schema: %s" % (path, e))
            bad += 1
    return bad


def validate(schema_path, paths):
    try:
        validator = Draft202012Validator(load(schema_path))
    except Exception as e:
        print("%s: cannot read the schema: %s" % (schema_path, e))
        return 1
    bad = 0
    for path in paths:
        try:
            data = load(path)
        except Exception as e:
            print("%s: not JSON: %s" % (path, e))
            bad += 1
            continue
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        for e in errors[:20]:
            print("%s: %s: %s" % (path, where(e), e.message[:300]))
        if errors:
            bad += 1
    return bad


def main(argv):
    if len(argv) >= 2 and argv[0] == "--check-schema":
        return 1 if check_schemas(argv[1:]) else 0
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 1 if validate(argv[0], argv[1:]) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
