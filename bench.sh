#!/usr/bin/env bash
# The benchmark: a fresh embedded PostgreSQL, the platform's build output as a child process, the
# event store loaded to 100k and then 1M events (appended through Marten, the projection building
# the read models the normal way), and at each size every figure beside a ceiling or floor
# measured in the same run: cohortComparison latency (repeated, distinct and broad filters; 1 and
# 16 clients) beside a trivial query, first query after a restart, dashboard push latency idle and
# while clinics sync, RSS, rebuild beside a raw COPY read, bulk sync beside a bare Marten append.
#   ./bench.sh            full run (100k, then 1M events; about 5 minutes on 2 cores)
#   ./bench.sh --quick    100k only, a smoke run (about a minute and a half)
# Results: a table, and benchmark-results.json. Exit code 2 when a target is missed.
#   CLINICS=200 PORT=5095 ./bench.sh
set -euo pipefail
cd "$(dirname "$0")"
source infra/prerequisites.sh
require postgres npm
for project in services/MatOutcomes.Platform services/MatOutcomes.Rebuild services/MatOutcomes.Benchmark; do
  dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly
done
exec dotnet services/MatOutcomes.Benchmark/bin/Release/net10.0/MatOutcomes.Benchmark.dll \
  --platform "$PWD/services/MatOutcomes.Platform/bin/Release/net10.0" \
  --rebuild "$PWD/services/MatOutcomes.Rebuild/bin/Release/net10.0" \
  --clinics "${CLINICS:-200}" --port "${PORT:-5095}" --json benchmark-results.json "$@"
