# Sourced by test.sh, demo.sh and bench.sh: installs what they need from Debian's packages when
# the machine lacks it, so each needs only the .NET 10 SDK to begin with.
#   require postgres npm chromium redis curl bc

# require NAME...: each NAME is a need below; the missing ones are installed with apt-get, as root
# or through sudo, or the script stops saying what to install.
require() {
  local packages=() need
  for need in "$@"; do
    case "$need" in
      # initdb and pg_ctl for the embedded cluster; the package also creates the postgres user the
      # cluster runs as when we are root.
      postgres) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v pg_ctl >/dev/null || packages+=(postgresql)
                [[ $EUID -ne 0 ]] || command -v runuser >/dev/null || packages+=(util-linux) ;;
      # The Platform build fetches GraphiQL, chart.js and @microsoft/signalr with npm; the tests'
      # build fetches the GraphQL-over-HTTP conformance suite.
      npm)      command -v npm >/dev/null && command -v node >/dev/null || packages+=(nodejs npm) ;;
      chromium) [[ -x /usr/bin/chromium ]] || packages+=(chromium) ;;
      redis)    command -v redis-server >/dev/null || [[ -x /usr/bin/redis-server ]] || packages+=(redis-server) ;;
      curl)     command -v curl >/dev/null || packages+=(curl) ;;
      bc)       command -v bc >/dev/null || packages+=(bc) ;;
      *)        echo "prerequisites.sh: unknown need '$need'" >&2; return 2 ;;
    esac
  done
  ((${#packages[@]})) || return 0

  local apt=()
  if [[ $EUID -eq 0 ]]; then apt=(env DEBIAN_FRONTEND=noninteractive)
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then apt=(sudo env DEBIAN_FRONTEND=noninteractive)
  fi
  if ! command -v apt-get >/dev/null || ((${#apt[@]} == 0)); then
    echo "Missing Debian packages: ${packages[*]}." >&2
    if command -v apt-get >/dev/null; then
      echo "Install them (sudo apt-get install -y ${packages[*]}) or run this script as root, then run it again." >&2
    else
      echo "This is not a Debian/Ubuntu machine: install their equivalents (PostgreSQL server binaries, Node.js with npm, Chromium, redis-server), then run it again." >&2
    fi
    exit 1
  fi
  echo "Installing what this machine lacks: ${packages[*]}"
  "${apt[@]}" apt-get update -qq
  "${apt[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
}
