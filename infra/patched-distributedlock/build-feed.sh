#!/usr/bin/env bash
# Rebuilds the two metapackages in infra/local-feed. Only needed if their versions change;
# the built .nupkg files are committed so a fresh clone restores with plain `dotnet restore`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for p in Core Postgres; do
  dotnet pack "$here/$p" -c Release -o "$here/../local-feed" --nologo -p:ImportDirectoryPackagesProps=false
done
