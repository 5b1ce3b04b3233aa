#!/usr/bin/env bash
# The main job: make sure a Docker engine answers (installing and starting one on Debian if
# none does), build, and open the live monitor in this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! timeout 5 docker version >/dev/null 2>&1; then bash scripts/setup-docker.sh; fi
npm run --silent build
exec node dist/cli.js watch "$@"
