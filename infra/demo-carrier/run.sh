#!/usr/bin/env bash
# The demo stack's stand-in carrier, started by infra/run.sh when no trunk is configured
# (HOTLINE_GW_TRUNK unset): a SIPp UAS on loopback that answers every call the gateway
# places through its trunk and speaks a recorded message (espeak-ng, PCMA). It only stands in
# for a real carrier so callbacks, click-to-call and campaigns work out of the box; nothing
# leaves the machine. Every SIP message it saw is logged to .local/carrier/carrier_messages.log.
#
#   infra/demo-carrier/run.sh ADDR      (e.g. 127.0.0.1:5090)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
addr="${1:?usage: run.sh HOST:PORT}"
work="$root/.local/carrier"
mkdir -p "$work"
cd "$work"
if [ ! -s voice.al ]; then
  espeak-ng -v en-us -s 150 -w voice.wav \
    "Hello. This is the Hotline demo carrier. Your call went out through the demo trunk. Replace this trunk with your own carrier to reach real phones."
  sox voice.wav -t al -r 8000 -c 1 voice.al
fi
rm -f carrier_messages.log
exec sipp -sf "$here/uas.xml" -i "${addr%:*}" -p "${addr##*:}" -mi "${addr%:*}" \
  -mp "${HOTLINE_DEMO_CARRIER_RTP_PORT:-31000}" \
  -nostdin -trace_msg -message_file carrier_messages.log -trace_err -error_file carrier_errors.log \
  >/dev/null 2>"$work/carrier.stderr"
