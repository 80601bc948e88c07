#!/usr/bin/python3
"""Debian's cloud-init as an IMDS client, the way its EC2 datasource crawls (DataSourceEc2.crawl_metadata):
a token PUT to /latest/api/token (TTL 21600) through cloudinit.url_helper, then the meta-data tree and the
instance identity under the dated API version the datasource pins, with the token on every GET through
cloudinit.sources.helpers.ec2. Never runs cloud-init itself. Prints one JSON line; `token_mode` is "v2" when
the PUT gave a token, "v1" when cloud-init fell back to no token."""
import json
import sys

from cloudinit import url_helper
from cloudinit.sources.helpers import ec2

BASE = "http://169.254.169.254"
API_VERSION = "2021-03-23"  # DataSourceEc2.extended_metadata_versions[0] in cloud-init 22.4
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"

token = None
try:
    response = url_helper.readurl(
        BASE + "/latest/api/token", headers={TTL_HEADER: "21600"}, request_method="PUT", timeout=5, retries=1
    )
    token = response.contents.decode("utf-8")
except url_helper.UrlError as error:
    print(f"token PUT failed: {error}", file=sys.stderr)


def headers(_url):
    return {TOKEN_HEADER: token} if token else {}


metadata = ec2.get_instance_metadata(API_VERSION, BASE, headers_cb=headers, headers_redact=[TOKEN_HEADER], retries=1)
identity = ec2.get_instance_identity(API_VERSION, BASE, headers_cb=headers, headers_redact=[TOKEN_HEADER], retries=1)
document = identity.get("document")
if isinstance(document, (bytes, str)):
    document = json.loads(document)
macs = metadata.get("network", {}).get("interfaces", {}).get("macs", {})
print(json.dumps({
    "token_mode": "v2" if token else "v1",
    "instance_id": metadata.get("instance-id"),
    "local_ipv4": metadata.get("local-ipv4"),
    "public_keys": metadata.get("public-keys"),
    "macs": sorted(macs.keys()),
    # cloud-init never materializes security-credentials/; iam/info is decoded from JSON.
    "iam_info": metadata.get("iam", {}).get("info"),
    "identity_region": (document or {}).get("region"),
    "identity_instance_id": (document or {}).get("instanceId"),
}))
