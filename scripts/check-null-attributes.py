#!/usr/bin/env python3
"""After the test suites (scripts/test): scans every table on DYNAMODB_ENDPOINT and
fails if any item holds a top-level NULL attribute.

relinx writes an absent optional field as no attribute at all (shared/ddb codec):
conditions such as `attribute_not_exists(failing_since)` are only true for an absent
attribute, so a NULL one silently turns them false. A null inside a map is data a
client gave (a record's JSON, a contact's field given as null) and is left alone.
This is a test-side check over what the suites left behind, never a request path.
"""

import os
import sys

import boto3


def main() -> int:
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint:
        print("check-null-attributes: DYNAMODB_ENDPOINT is not set", file=sys.stderr)
        return 2
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    tables = []
    for page in ddb.get_paginator("list_tables").paginate():
        tables.extend(page["TableNames"])
    scanned = 0
    found = []
    for table in tables:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                scanned += 1
                for name, value in item.items():
                    if "NULL" in value:
                        found.append(f"{table}: {item.get('pk', {}).get('S', '?')} / "
                                     f"{item.get('sk', {}).get('S', '?')}: {name} is NULL")
    for line in found[:50]:
        print(line, file=sys.stderr)
    if found:
        print(f"check-null-attributes: {len(found)} NULL attributes in {scanned} items "
              f"of {len(tables)} tables", file=sys.stderr)
        return 1
    print(f"check-null-attributes: no NULL attribute in {scanned} items of {len(tables)} tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
