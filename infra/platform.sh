# Shared by demo.sh and bench.sh: build the platform and the simulator, start the platform on
# $URL in the background and wait until it is healthy, mint tokens. Source it; it sets
# $bin, $platform, $simulator, $log and $pid.

build_platform() {
  for project in services/MatOutcomes.Platform services/MatOutcomes.Simulator; do
    dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly
  done
  bin="$PWD/services/MatOutcomes.Platform/bin/Release/net10.0"
  platform="$bin/MatOutcomes.Platform.dll"
  simulator="$PWD/services/MatOutcomes.Simulator/bin/Release/net10.0/MatOutcomes.Simulator.dll"
}

start_platform() {
  log=$(mktemp -t matoutcomes-platform.XXXX.log)
  dotnet "$platform" --urls "$URL" --contentRoot "$bin" >"$log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
  echo "Starting the platform (log: $log) ..."
  local healthy=""
  for _ in $(seq 1 120); do
    curl -fs "$URL/health" >/dev/null 2>&1 && { healthy=yes; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  [[ -n "$healthy" ]] || { tail -n 40 "$log"; echo "The platform did not become healthy; its log is above."; exit 1; }
  grep -m1 -o "embedded PostgreSQL.*" "$log" || true
}

# mint_token ROLE SUBJECT [CLINIC ...]
mint_token() {
  local role=$1 subject=$2; shift 2
  local clinic_args=()
  (($#)) && clinic_args=(--clinic "$@")
  dotnet "$platform" token --role "$role" --subject "$subject" "${clinic_args[@]}" --contentRoot "$bin" | tail -n 1
}

# clinic_ids N: clinic-01 ... clinic-N, the simulator's ids
clinic_ids() { for i in $(seq 1 "$1"); do printf 'clinic-%02d ' "$i"; done; }
