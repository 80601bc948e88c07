#!/usr/bin/python3
"""Debian's python3-botocore as the AWS CLI and boto3 use it on EC2, with botocore's defaults (1 s timeout, one
attempt), driven line by line from stdin so a test can change the appliance between steps:
  load            InstanceMetadataProvider(...).load(): print the access key, the expiry botocore holds, elapsed s
  advance N       move botocore's refresh clock N seconds ahead, then get_frozen_credentials(): print the key
Prints one JSON line per command; the secret key and session token are never printed."""
import datetime
import json
import sys
import time

from botocore.credentials import InstanceMetadataProvider, _local_now
from botocore.utils import InstanceMetadataFetcher

credentials = None
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == 'load':
        started = time.monotonic()
        fetcher = InstanceMetadataFetcher(config={'ec2_credential_refresh_window': 15 * 60})
        credentials = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
        print(json.dumps({
            'access_key': credentials.access_key if credentials else None,
            'expiry': credentials._expiry_time.isoformat() if credentials else None,
            'elapsed': time.monotonic() - started,
        }), flush=True)
    elif words[0] == 'advance':
        shift = datetime.timedelta(seconds=int(words[1]))
        credentials._time_fetcher = lambda: _local_now() + shift
        frozen = credentials.get_frozen_credentials()
        print(json.dumps({'access_key': frozen.access_key}), flush=True)
