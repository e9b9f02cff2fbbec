#!/usr/bin/env bash
# The README's run command: installs what is missing, starts Postgres and Redis if none is
# configured, builds the SPA (when its sources changed) and the binaries, migrates, seeds
# the demo call center, and runs the stack on localhost until Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
cd "$HOTLINE_ROOT"

if [ -x frontend/build.sh ]; then
  log "building the web app (skipped when unchanged)"
  frontend/build.sh >&2
fi
log "building the server binaries"
cargo build --bins -q
# Where cargo put them (CARGO_TARGET_DIR when set).
bin="${CARGO_TARGET_DIR:-$HOTLINE_ROOT/target}/debug"

export HOTLINE_HTTP_ADDR="${HOTLINE_HTTP_ADDR:-127.0.0.1:8080}"
export HOTLINE_PUBLIC_URL="${HOTLINE_PUBLIC_URL:-http://$HOTLINE_HTTP_ADDR}"
"$bin/hotline" migrate
"$bin/hotline" seed-demo

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

log "starting the media gateway: SIP on ${HOTLINE_GW_SIP_ADDR:-127.0.0.1:5080}, browser softphones on ${HOTLINE_GW_HTTP_ADDR:-127.0.0.1:5081}"
infra/run-gateway.sh & pids+=($!)

log "Hotline is starting at $HOTLINE_PUBLIC_URL (API, web app, /api/v1/openapi.json); Ctrl-C stops it"
log "first call: sign in as agent1@demo.hotline.test, allow the microphone, choose Ready; then run infra/demo-call.sh (or dial sip:+994125550100@${HOTLINE_GW_SIP_ADDR:-127.0.0.1:5080} from a SIP phone) and press 1"
# Desk phones' provisioning text names the gateway's SIP address as their registrar.
HOTLINE_SIP_REGISTRAR="${HOTLINE_SIP_REGISTRAR:-${HOTLINE_GW_SIP_ADDR:-127.0.0.1:5080}}" \
  "$bin/hotline" serve & pids+=($!)
wait "${pids[-1]}"
