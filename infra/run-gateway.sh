#!/usr/bin/env bash
# Started by infra/run.sh: the media gateway on localhost (SIP on 127.0.0.1:5080 by default),
# with prompts synthesised once into .local/prompts and recordings under .local/recordings.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prompts="$root/.local/prompts"
[ -f "$prompts/greeting.wav" ] || "$root/media-gateway/prompts/generate.sh" "$prompts" >/dev/null
export HOTLINE_GW_PROMPTS_DIR="${HOTLINE_GW_PROMPTS_DIR:-$prompts}"
export HOTLINE_GW_RECORDINGS_DIR="${HOTLINE_GW_RECORDINGS_DIR:-$root/.local/recordings}"
export HOTLINE_GW_SIP_ADDR="${HOTLINE_GW_SIP_ADDR:-127.0.0.1:5080}"
export HOTLINE_GW_RTP_PORTS="${HOTLINE_GW_RTP_PORTS:-30000-30999}"
exec "${CARGO_TARGET_DIR:-$root/target}/debug/hotline-gateway"
