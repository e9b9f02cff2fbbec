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
for d in 0 1 2 3 4 5 6 7 8 9; do say "digit-$d" "$d"; done

# Music on hold: a 16-second loop of four plucked chords (C, A minor, F, G) over a soft bass,
# each played twice — music, not a tone, at about -17 dBFS RMS.
tmp="$(mktemp -d)"
i=0
for chord in "261.63 329.63 392.00" "220.00 261.63 329.63" "174.61 220.00 261.63" "196.00 246.94 293.66"; do
  set -- $chord
  bass="$(awk "BEGIN { print $1 / 2 }")"
  for _ in 1 2; do
    i=$((i + 1))
    sox -r 44100 -c 4 -n -c 1 -b 16 "$tmp/$i.wav" synth 2 pluck "$1" pluck "$2" pluck "$3" sine "$bass" \
      remix - fade q 0.05 2 0.3 rate 8000 gain -n -6
  done
done
sox "$tmp/1.wav" "$tmp/2.wav" "$tmp/3.wav" "$tmp/4.wav" "$tmp/5.wav" "$tmp/6.wav" "$tmp/7.wav" "$tmp/8.wav" "$out/moh.wav"
rm -rf "$tmp"
