#!/usr/bin/env bash
# Installs what the network-fault tests of tests/it/chaos.rs need: iproute2 (ip, tc) and
# nftables (nft). Called by .ci/run as root; without root it only reports what is missing
# (those tests then skip with a message). Traffic in those tests stays inside network
# namespaces the tests create.
set -euo pipefail

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v tc >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
if [ ${#need[@]} -eq 0 ]; then
  echo "chaos-setup: ip, tc and nft are present"
  exit 0
fi
# shellcheck disable=SC2207
need=($(printf '%s\n' "${need[@]}" | sort -u))
if [ "$(id -u)" != 0 ]; then
  echo "chaos-setup: missing ${need[*]}; not root, so not installing (network-fault tests will skip)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "chaos-setup: installed ${need[*]}"
