"""DescribeInstances through Debian's python3-botocore against imds-hop's EC2 API; prints the parsed result as JSON."""
import json
import os
import sys

import botocore.session

session = botocore.session.get_session()
client = session.create_client(
    "ec2",
    region_name=os.environ["AWS_DEFAULT_REGION"],
    endpoint_url=sys.argv[1],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
)
result = client.describe_instances(InstanceIds=[sys.argv[2]])
result.pop("ResponseMetadata", None)
print(json.dumps(result, default=str))
