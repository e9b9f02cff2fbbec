#!/bin/sh
# Synthesises every built-in prompt (hotline_wire::prompts::BUILTIN_PROMPTS): speech with
# espeak-ng, music on hold with sox (Debian packages `espeak-ng`, `sox`).
# Usage: media-gateway/prompts/generate.sh [OUT_DIR]   (default: this directory)
# The gateway converts any WAV to 8 kHz mono itself, so espeak's 22 kHz output is used as is.
set -eu
out="${1:-$(dirname "$0")}"
mkdir -p "$out"
command -v espeak-ng >/dev/null || { echo "espeak-ng missing: apt-get install espeak-ng" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox missing: apt-get install sox" >&2; exit 1; }
say() { espeak-ng -v en-us -s 150 -w "$out/$1.wav" "$2"; }
say greeting "Welcome to Hotline."
say menu "Press 1 for an echo test. Press any other key to hang up."
say menu-demo "For billing, press 1. For support, press 2."
say goodbye "Thank you for calling. Goodbye."
say beep "Please leave a message after the tone."
say all-busy "All our agents are still busy. Please call again later. Goodbye."
say callback-promise "All our agents are still busy. We will call you back as soon as we can. Goodbye."
for d in 0 1 2 3 4 5 6 7 8 9; do say "digit-$d" "$d"; done
# Read before the digits of a caller-ID verification code (backend/src/verify.rs).
say verification-code "This is Hotline. Your verification code is:"
# Queue announcements (backend/src/announce.rs): "You are caller number twenty one. Your
# estimated waiting time is about three minutes." Numbers are said as words put together from
# digit-1…9, these and number-hundred.
say queue-position "You are caller number"
say queue-wait "Your estimated waiting time is about"
say queue-minute "minute"
say queue-minutes "minutes"
for n in 10 11 12 13 14 15 16 17 18 19 20 30 40 50 60 70 80 90; do say "number-$n" "$n"; done
say number-hundred "hundred"

# Music on hold: an 8-second loop of four chords (C, A minor, F, G), each plucked four times
# (the full chord, then its notes in turn) over a quiet bass; about -17 dBFS RMS. Music, not
# a tone: no single frequency holds most of its energy.
tmp="$(mktemp -d)"
i=0
for chord in "261.63 329.63 392.00" "220.00 261.63 329.63" "174.61 220.00 261.63" "196.00 246.94 293.66"; do
  set -- $chord
  bass="$(awk "BEGIN { print $1 / 2 }")"
  for voicing in "$1 $2 $3" "$1 $1 $2" "$2 $2 $3" "$3 $3 $1"; do
    set -- $voicing
    i=$((i + 1))
    sox -r 44100 -c 4 -n -c 1 -b 16 "$tmp/$(printf %02d $i).wav" \
      synth 0.5 pluck "$1" pluck "$2" pluck "$3" sine "$bass" \
      remix 1v1,2v1,3v1,4v0.25 fade q 0.01 0.5 0.05 rate 8000
  done
  set -- $chord
done
sox "$tmp"/*.wav "$out/moh.wav" gain -n -6
rm -rf "$tmp"
