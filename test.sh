#!/usr/bin/env bash
# The tests on a machine with only the .NET 10 SDK: installs what they use from Debian's packages
# when missing (PostgreSQL's server binaries, Chromium, redis-server, Node.js and npm), then runs
# them all. Extra arguments go to dotnet test (e.g. --filter "FullyQualifiedName~Gateway").
set -euo pipefail
cd "$(dirname "$0")"
source infra/prerequisites.sh
require postgres npm chromium redis
exec dotnet test MatOutcomes.sln "$@"
