#!/usr/bin/python3
"""Independent S3 client for the integration tests (Debian python3-boto3).

    s3_check.py get  BUCKET KEY OUTFILE   download an object (OUTFILE "-" = stdout)
    s3_check.py list BUCKET PREFIX        print "SIZE KEY" per object, sorted by key
    s3_check.py head BUCKET KEY           print "SIZE ETAG"

Endpoint and credentials come from the environment, as written to DIR/env by
ceph_fixture.sh: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION (default us-east-1). Path-style addressing, SigV4.
Exit status: 0 ok, 1 S3 error (HTTP status and code on stderr), 2 usage.
"""
import os
import sys

import boto3
import botocore.config
import botocore.exceptions


def client():
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit("s3_check.py: AWS_ENDPOINT_URL is not set")
    cfg = botocore.config.Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1},
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=cfg,
    )


def main(argv):
    usage = __doc__.strip().splitlines()[2:5]
    if len(argv) < 2:
        print("usage:\n" + "\n".join(usage), file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    s3 = client()
    try:
        if cmd == "get" and len(args) == 3:
            bucket, key, out = args
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            if out == "-":
                for chunk in body.iter_chunks(1 << 20):
                    sys.stdout.buffer.write(chunk)
            else:
                with open(out, "wb") as f:
                    for chunk in body.iter_chunks(1 << 20):
                        f.write(chunk)
        elif cmd == "list" and len(args) == 2:
            bucket, prefix = args
            rows = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                rows += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
            for key, size in sorted(rows):
                print(size, key)
        elif cmd == "head" and len(args) == 2:
            bucket, key = args
            r = s3.head_object(Bucket=bucket, Key=key)
            print(r["ContentLength"], r["ETag"].strip('"'))
        else:
            print("usage:\n" + "\n".join(usage), file=sys.stderr)
            return 2
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        print(f"s3_check.py: {cmd} failed: HTTP {status} {err.get('Code')} {err.get('Message') or ''}".rstrip(),
              file=sys.stderr)
        return 1
    except botocore.exceptions.BotoCoreError as e:
        print(f"s3_check.py: {cmd} failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
