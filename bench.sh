#!/usr/bin/env bash
# Benchmarks on a fresh embedded PostgreSQL, each figure beside a ceiling measured in the same run:
#  - sync throughput (simulator over HTTP) against a bulk COPY of the same number of events;
#  - outcome projection lag during that load, and time to catch up after it;
#  - a full rebuild through the JasperFx command line against reading the same events raw.
#   EPISODES=3000 CLINICS=8 ./bench.sh
set -euo pipefail
cd "$(dirname "$0")"
EPISODES=${EPISODES:-3000}
CLINICS=${CLINICS:-8}
PORT=${PORT:-5090}
URL="http://127.0.0.1:$PORT"
export ASPNETCORE_ENVIRONMENT=Development
export Postgres__DataDirectory
scratch=$(mktemp -d -t matoutcomes-bench.XXXX)
chmod 755 "$scratch" # PostgreSQL runs as the postgres user and must reach its folder
Postgres__DataDirectory=$scratch/pg

source infra/prerequisites.sh
require postgres npm curl bc
source infra/platform.sh
build_platform
start_platform
pgport=$(grep -o "127.0.0.1:[0-9]*, data" "$log" | head -1 | sed -E 's/.*:([0-9]+),.*/\1/')
sql() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d matoutcomes -qAt "$@"; }

read -r -a clinics <<<"$(clinic_ids "$CLINICS")"
TOKEN=$(mint_token clinic bench "${clinics[@]}")
ADMIN=$(mint_token admin bench)

# A clinic network's day-by-day syncing, then the same volume again pushed flat out.
dotnet "$simulator" --url "$URL" --token "$TOKEN" --watch-lag-token "$ADMIN" --clinics "$CLINICS" --episodes "$EPISODES" --seed 4242 | tee /tmp/bench-sim.txt
sync_rate=$(grep -o "sync throughput *│ *[0-9]*" /tmp/bench-sim.txt | grep -o "[0-9]*$")
dotnet "$simulator" --url "$URL" --token "$TOKEN" --clinics "$CLINICS" --episodes "$EPISODES" --seed 4243 --bulk | tee /tmp/bench-bulk.txt
bulk_rate=$(grep -o "sync throughput *│ *[0-9]*" /tmp/bench-bulk.txt | grep -o "[0-9]*$")
events=$(sql -c "select count(*) from matoutcomes.mt_events")

# Ceiling for writes: the same number of event bodies bulk-copied into a scratch table.
copy_start=$(date +%s.%N)
sql -c "create temp table ceiling (data jsonb); copy ceiling from program 'true'; insert into ceiling select data from matoutcomes.mt_events;" >/dev/null
copy_s=$(echo "$(date +%s.%N) - $copy_start" | bc -l)
# Ceiling for rebuilds: reading every event body out of PostgreSQL, in order.
read_start=$(date +%s.%N)
sql -c "\copy (select data from matoutcomes.mt_events order by seq_id) to '/dev/null'" >/dev/null
read_s=$(echo "$(date +%s.%N) - $read_start" | bc -l)

kill $pid; wait $pid 2>/dev/null || true
rebuild_out=$(dotnet "$platform" projections rebuild -p outcomes --contentRoot "$bin" 2>&1)
rebuild_ms=$(grep -o "Finished rebuilding outcomes in [0-9]*" <<<"$rebuild_out" | grep -o "[0-9]*$")

awk -v e="$events" -v s="$sync_rate" -v b="$bulk_rate" -v c="$copy_s" -v r="$rebuild_ms" -v rd="$read_s" 'BEGIN {
  copy_rate = e / c; rebuild_rate = e / (r / 1000); read_rate = e / rd;
  printf "\nevents stored                 %d\n", e;
  printf "sync, clinics day by day      %8.0f events/s   ceiling (bulk insert of the same bodies) %9.0f rows/s   ratio %.3f\n", s, copy_rate, s / copy_rate;
  printf "sync, flat out (--bulk)       %8.0f events/s   ceiling (bulk insert of the same bodies) %9.0f rows/s   ratio %.3f\n", b, copy_rate, b / copy_rate;
  printf "projection rebuild (CLI)      %8.0f events/s   ceiling (raw read of the same events)    %9.0f rows/s   ratio %.3f\n", rebuild_rate, read_rate, rebuild_rate / read_rate;
}'
