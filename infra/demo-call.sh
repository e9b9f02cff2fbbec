#!/usr/bin/env bash
# Calls the demo number as the demo customer (a SIP phone made of SIPp): presses 1 for
# billing after the greeting, speaks a recorded question until the agent hangs up.
#
#   infra/demo-call.sh [FROM]     FROM defaults to +994501234567, the seeded customer
#                                 "Rashad Mammadov", so the agent's desktop pops his card
# The stack must be running (infra/run.sh). Uses HOTLINE_GW_SIP_ADDR like run.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
from="${1:-+994501234567}"
gw="${HOTLINE_GW_SIP_ADDR:-127.0.0.1:5080}"
work="$root/.local/demo-call"
mkdir -p "$work"
cd "$work"
if [ ! -s voice.al ]; then
  espeak-ng -v en-us -s 140 -w voice.wav \
    "Hello, this is Rashad. I think my last water bill is too high. Could you check it, please?"
  sox voice.wav -t al -r 8000 -c 1 voice.al
fi
printf 'SEQUENTIAL\n%s;\n' "$from" > caller.csv
echo "calling ${HOTLINE_DEMO_DID:-+994125550100} at $gw as $from (Ctrl-C hangs up)" >&2
exec sipp -sf "$here/demo-call/caller.xml" -inf caller.csv -s "${HOTLINE_DEMO_DID:-+994125550100}" \
  -i 127.0.0.1 -mi 127.0.0.1 -m 1 -nostdin -timeout 330s -trace_err "$gw"
