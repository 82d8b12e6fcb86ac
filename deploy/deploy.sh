#!/usr/bin/env bash
# Deploys Tangible's contracts to a network of deploy/networks/ and writes
# deployments/<chain-id>.json, the file the indexer and the API read.
#
#   DEPLOYER_PRIVATE_KEY=0x… OPERATOR_ADDRESS=0x… PLATFORM_ADDRESS=0x… \
#     deploy/deploy.sh base-sepolia
#
# Required: DEPLOYER_PRIVATE_KEY (pays the gas; read from the environment, never printed),
# OPERATOR_ADDRESS (the API's settlement key: mints card purchases, revokes on disputes),
# PLATFORM_ADDRESS (treasury credited with the platform's 5 % and primary commissions).
# Optional: ADMIN_ADDRESS (default the deployer; use a multisig in production), RPC_URL,
# STABLECOIN (required on mainnets, see the network file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
network="${1:-}"
usage() { echo "usage: deploy/deploy.sh <network>   (one of: $(cd "$root/deploy/networks" && ls *.env | sed 's/\.env$//' | xargs))" >&2; exit 2; }
[ -n "$network" ] || usage
file="$root/deploy/networks/$network.env"
[ -f "$file" ] || { echo "deploy: unknown network '$network'" >&2; usage; }
# shellcheck source=/dev/null
source "$file"

missing=()
for v in DEPLOYER_PRIVATE_KEY OPERATOR_ADDRESS PLATFORM_ADDRESS; do
  [ -n "${!v:-}" ] || missing+=("$v")
done
if [ "$REQUIRE_STABLECOIN" = 1 ] && [ -z "$STABLECOIN" ]; then missing+=(STABLECOIN); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy: set ${missing[*]} (see the top of deploy/deploy.sh)" >&2
  exit 2
fi

bash "$root/scripts/bootstrap.sh"
export PATH="$root/.tools/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tangible/target}"
(cd "$root/contracts" && forge build --quiet)

# Refuse to deploy to a node that is not the network named (a wrong RPC URL would otherwise
# put the market on the wrong chain).
actual="$(cast chain-id --rpc-url "$RPC_URL")" || { echo "deploy: cannot reach $RPC_URL" >&2; exit 1; }
if [ "$actual" != "$CHAIN_ID" ]; then
  echo "deploy: $RPC_URL is chain $actual, but $network is chain $CHAIN_ID" >&2
  exit 1
fi

cargo build --release --quiet --locked -p tangible-chain --bin tangible-deploy
args=(--rpc-url "$RPC_URL" --operator "$OPERATOR_ADDRESS" --platform "$PLATFORM_ADDRESS" --out "$root/deployments")
[ -n "${ADMIN_ADDRESS:-}" ] && args+=(--admin "$ADMIN_ADDRESS")
[ -n "$STABLECOIN" ] && args+=(--stablecoin "$STABLECOIN")
# The key goes through the environment (DEPLOYER_PRIVATE_KEY), not the command line.
"$CARGO_TARGET_DIR/release/tangible-deploy" "${args[@]}"

cat <<MSG

deploy: $network done — deployments/$CHAIN_ID.json written. Next:
  - commit deployments/$CHAIN_ID.json (addresses and deployment block; no secrets);
  - run the indexer and the API with deploy/indexer.env.example and deploy/api.env.example;
  - register studios through the API (their admins sign in with their wallets).
MSG
