#!/bin/sh
# Synthesises the built-in flow's prompts with espeak-ng (Debian package `espeak-ng`).
# Usage: media-gateway/prompts/generate.sh [OUT_DIR]   (default: this directory)
# The gateway converts any WAV to 8 kHz mono itself, so espeak's 22 kHz output is used as is.
set -eu
out="${1:-$(dirname "$0")}"
mkdir -p "$out"
command -v espeak-ng >/dev/null || { echo "espeak-ng missing: apt-get install espeak-ng" >&2; exit 1; }
say() { espeak-ng -v en-us -s 150 -w "$out/$1.wav" "$2"; }
say greeting "Welcome to Hotline."
say menu "Press 1 for an echo test. Press any other key to hang up."
say goodbye "Thank you for calling. Goodbye."
say beep "Please leave a message after the tone."
for d in 0 1 2 3 4 5 6 7 8 9; do say "digit-$d" "$d"; done
