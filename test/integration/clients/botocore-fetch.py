#!/usr/bin/python3
"""Debian's python3-botocore as an IMDS client, the way the aws CLI and boto3 use it on EC2:
InstanceMetadataFetcher for role credentials and InstanceMetadataRegionFetcher for the region.
Prints one JSON line; the secret key and session token are reported by presence only."""
import json

from botocore.utils import InstanceMetadataFetcher, InstanceMetadataRegionFetcher

credentials = InstanceMetadataFetcher(timeout=2, num_attempts=2).retrieve_iam_role_credentials()
region = InstanceMetadataRegionFetcher(timeout=2, num_attempts=2).retrieve_region()
print(json.dumps({
    "role_name": credentials.get("role_name"),
    "access_key": credentials.get("access_key"),
    "has_secret": len(credentials.get("secret_key") or "") >= 40,
    "has_token": bool(credentials.get("token")),
    "expiry_time": credentials.get("expiry_time"),
    "region": region,
}))
