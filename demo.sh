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

for project in services/MatOutcomes.Platform services/MatOutcomes.Simulator; do
  dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly
done
bin="$PWD/services/MatOutcomes.Platform/bin/Release/net10.0"
platform="$bin/MatOutcomes.Platform.dll"
simulator=services/MatOutcomes.Simulator/bin/Release/net10.0/MatOutcomes.Simulator.dll
log=$(mktemp -t matoutcomes-platform.XXXX.log)

dotnet "$platform" --urls "$URL" --contentRoot "$bin" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
echo "Starting the platform (log: $log) ..."
healthy=""
for _ in $(seq 1 120); do
  curl -fs "$URL/health" >/dev/null 2>&1 && { healthy=yes; break; }
  kill -0 $pid 2>/dev/null || break
  sleep 0.5
done
[[ -n "$healthy" ]] || { tail -n 40 "$log"; echo "The platform did not become healthy; its log is above."; exit 1; }
grep -m1 -o "embedded PostgreSQL.*" "$log" || true

clinics=()
for i in $(seq 1 "$CLINICS"); do clinics+=("$(printf 'clinic-%02d' "$i")"); done
TOKEN=$(dotnet "$platform" token --role clinic --subject simulator --clinic "${clinics[@]}" --contentRoot "$bin" | tail -n 1)
ADMIN=$(dotnet "$platform" token --role admin --subject demo --contentRoot "$bin" | tail -n 1)
MANAGER=$(dotnet "$platform" token --role manager --subject demo --clinic "${clinics[@]:0:2}" --contentRoot "$bin" | tail -n 1)

dotnet "$simulator" --url "$URL" --token "$TOKEN" --clinics "$CLINICS" --episodes "$EPISODES" --seed "$SEED"

episode=$(curl -fs -H "Authorization: Bearer $ADMIN" "$URL/api/clinics/clinic-01/events?limit=1" | grep -o '"episodeId":"[^"]*' | head -1 | cut -d'"' -f4)
cat <<EOT

Where to look (an admin token for these is in \$ADMIN below):
  health                  $URL/health
  live manager dashboard  $URL/dashboard?token=$MANAGER
  a clinic's event feed   curl -H "Authorization: Bearer \$ADMIN" "$URL/api/clinics/clinic-01/events?limit=5"
  one episode, projected  curl -H "Authorization: Bearer \$ADMIN" "$URL/api/clinics/clinic-01/episodes/$episode"
  platform log            $log

ADMIN=$ADMIN
EOT

if [[ "${1:-}" == "--exit" ]]; then exit 0; fi
echo "The platform keeps running at $URL; Ctrl+C stops it."
wait $pid
