"""Schemathesis hooks for scripts/api-contract (loaded through SCHEMATHESIS_HOOKS).

NDJSON (an upload's rows, `POST /api/sources/{id}/rows`) has no serializer of its
own in schemathesis: one JSON value a line, whatever was drawn, so lines that are not
objects are fuzzed too. (CSV bodies are text and need none.)
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    values = value if isinstance(value, list) else [value]
    return "".join(json.dumps(v) + "\n" for v in values).encode()
