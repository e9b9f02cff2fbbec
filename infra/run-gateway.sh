#!/usr/bin/env bash
# Started by infra/run.sh: the media gateway on localhost as users get it — SIP on
# 127.0.0.1:5080, the WebRTC listener the agents' browser softphones connect to on
# 127.0.0.1:5081, an RTP range for 2,500 concurrent calls, every built-in prompt (music on
# hold included) synthesised once into .local/prompts, recordings under .local/recordings,
# and the outbound trunk: HOTLINE_GW_TRUNK when set, else the demo stand-in carrier
# (infra/demo-carrier/run.sh, a SIPp UAS on 127.0.0.1:5090 that answers and speaks).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prompts="$root/.local/prompts"
# Regenerated when the generator changed (a new prompt, music on hold) or a file is missing.
stamp="$(sha256sum "$root/media-gateway/prompts/generate.sh" | cut -c1-16)"
if [ "$(cat "$prompts/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$prompts.new"
  "$root/media-gateway/prompts/generate.sh" "$prompts.new" >/dev/null
  echo "$stamp" > "$prompts.new/.stamp"
  rm -rf "$prompts" && mv "$prompts.new" "$prompts"
fi
export HOTLINE_GW_PROMPTS_DIR="${HOTLINE_GW_PROMPTS_DIR:-$prompts}"
export HOTLINE_GW_RECORDINGS_DIR="${HOTLINE_GW_RECORDINGS_DIR:-$root/.local/recordings}"
export HOTLINE_GW_SIP_ADDR="${HOTLINE_GW_SIP_ADDR:-127.0.0.1:5080}"
export HOTLINE_GW_HTTP_ADDR="${HOTLINE_GW_HTTP_ADDR:-127.0.0.1:5081}"
# Two ports a call (RTP + RTCP): 5,000 ports fit the benchmarked 2,000 calls with room left.
export HOTLINE_GW_RTP_PORTS="${HOTLINE_GW_RTP_PORTS:-20000-24999}"

carrier_pid=
if [ -z "${HOTLINE_GW_TRUNK:-}" ]; then
  carrier="${HOTLINE_DEMO_CARRIER_ADDR:-127.0.0.1:5090}"
  "$root/infra/demo-carrier/run.sh" "$carrier" &
  carrier_pid=$!
  export HOTLINE_GW_TRUNK="$carrier"
  printf '\033[1m[hotline]\033[0m %s\n' "outbound trunk: the demo stand-in carrier on $carrier (set HOTLINE_GW_TRUNK to use your carrier)" >&2
fi
gw="${CARGO_TARGET_DIR:-$root/target}/debug/hotline-gateway"
"$gw" & gw_pid=$!
stop() { kill "$gw_pid" ${carrier_pid:+"$carrier_pid"} 2>/dev/null || true; }
trap stop EXIT INT TERM
wait "$gw_pid"
