#!/usr/bin/env bash
# Starts MatOutcomes on its embedded PostgreSQL, plays a simulated clinic network against it
# over HTTP, and leaves it running (Ctrl+C stops it). `--exit` stops after the simulation.
#   EPISODES=3000 CLINICS=8 PORT=5080 ./demo.sh
set -euo pipefail
cd "$(dirname "$0")"
PORT=${PORT:-5080}
CLINICS=${CLINICS:-8}
EPISODES=${EPISODES:-3000}
SEED=${SEED:-$(date +%s)}
URL="http://127.0.0.1:$PORT"
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}

source infra/prerequisites.sh
require postgres npm curl
source infra/platform.sh
build_platform
start_platform

read -r -a clinics <<<"$(clinic_ids "$CLINICS")"
TOKEN=$(mint_token clinic simulator "${clinics[@]}")
ADMIN=$(mint_token admin demo)
MANAGER=$(mint_token manager demo "${clinics[@]}")
RESEARCHER=$(mint_token researcher demo)

dotnet "$simulator" --url "$URL" --token "$TOKEN" --watch-lag-token "$ADMIN" --clinics "$CLINICS" --episodes "$EPISODES" --seed "$SEED"

episode=$(curl -fs -H "Authorization: Bearer $ADMIN" "$URL/api/clinics/clinic-01/events?limit=1" | grep -o '"episodeId":"[^"]*' | head -1 | cut -d'"' -f4)
cat <<EOT

Where to look (the tokens are printed below):
  manager dashboard       $URL/dashboard?token=$MANAGER
  researcher GraphQL IDE  $URL/graphql/ide?token=$RESEARCHER
  health                  $URL/health
  a clinic's event feed   curl -H "Authorization: Bearer \$ADMIN" "$URL/api/clinics/clinic-01/events?limit=5"
  one episode, projected  curl -H "Authorization: Bearer \$ADMIN" "$URL/api/clinics/clinic-01/episodes/$episode"
  a study                 curl -H "Authorization: Bearer \$ADMIN" -H "Content-Type: application/json" -d '{"regions":["neck"],"chronicFromWeeks":26}' "$URL/api/studies/cohort-comparison"
  projection lag          curl -H "Authorization: Bearer \$ADMIN" "$URL/api/projections/outcomes"
  platform log            $log

ADMIN=$ADMIN
MANAGER=$MANAGER
RESEARCHER=$RESEARCHER
EOT

if [[ "${1:-}" == "--exit" ]]; then exit 0; fi
echo "The platform keeps running at $URL; Ctrl+C stops it."
wait $pid
