#!/usr/bin/env bash
# Builds the Hotline SPA into frontend/dist (idempotent, offline-capable).
#
#   frontend/build.sh            build when sources changed, otherwise do nothing
#   frontend/build.sh --force    rebuild even if the stamp matches
#
# Toolchain (installed when missing): Debian's rustc-web/cargo-web compile wasm32 with
# -Zbuild-std (the rustup toolchain cannot fetch the wasm32 std offline), lld-22 links,
# wasm-bindgen-cli (same version as in Cargo.lock) generates the JS glue, binaryen's
# wasm-opt shrinks the result. See docs/frontend.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf '[frontend/build.sh] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- inputs and stamp
inputs() {
  find src i18n static ../backend/wire/src -type f 2>/dev/null
  printf '%s\n' Cargo.toml Cargo.lock .cargo/config.toml index.html build.sh ../backend/wire/Cargo.toml
}
stamp="$(inputs | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-32)"
if [[ $force == 0 && -f dist/.stamp && -f dist/index.html && "$(cat dist/.stamp)" == "$stamp" ]]; then
  log "dist/ is up to date (sources unchanged)"
  exit 0
fi

# ---------------------------------------------------------------- toolchain
sudo_if_needed() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_pkgs=(rustc-web cargo-web rust-web-src lld-22 binaryen)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
    || { sudo_if_needed apt-get update -q >&2 && sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; }
fi

wb_version="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)"
[[ -n "$wb_version" ]] || { log "cannot read the wasm-bindgen version from Cargo.lock"; exit 1; }
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
wasm_bindgen="$cargo_bin/wasm-bindgen"
if [[ ! -x "$wasm_bindgen" ]] || [[ "$("$wasm_bindgen" --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]]; then
  log "installing wasm-bindgen-cli $wb_version (cargo install, a few minutes)"
  # No --locked: the registry mirror may lack a pinned dependency of the CLI.
  env -u RUSTC -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u CARGO_TARGET_DIR \
    cargo install wasm-bindgen-cli --version "$wb_version" >&2
fi

# ---------------------------------------------------------------- compile
log "compiling the SPA for wasm32 (Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2))"
env -u RUSTC -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u RUSTDOC -u RUSTFLAGS \
    -u CARGO_BUILD_TARGET -u CARGO_BUILD_RUSTC -u CARGO_ENCODED_RUSTFLAGS -u RUSTUP_TOOLCHAIN \
  PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$here/target" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld \
  /usr/bin/cargo build --release --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort >&2

# ---------------------------------------------------------------- bundle
out="$here/dist.tmp"
rm -rf "$out"
mkdir -p "$out/i18n"
"$wasm_bindgen" --target web --no-typescript --out-dir "$out/gen" --out-name hotline \
  target/wasm32-unknown-unknown/release/hotline-frontend.wasm
# binaryen 108 (Debian 12) predates these features being on by default.
wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$out/gen/hotline_bg.wasm" -o "$out/gen/hotline.opt.wasm" 2>"$out/wasm-opt.log" \
  || { head -20 "$out/wasm-opt.log" >&2; exit 1; }
rm -f "$out/wasm-opt.log"

h() { sha256sum "$1" | cut -c1-12; }
wasm_name="hotline-$(h "$out/gen/hotline.opt.wasm").wasm"
mv "$out/gen/hotline.opt.wasm" "$out/$wasm_name"
js_name="hotline-$(h "$out/gen/hotline.js").js"
mv "$out/gen/hotline.js" "$out/$js_name"
rm -rf "$out/gen"
css_name="style-$(h static/style.css).css"
cp static/style.css "$out/$css_name"
cp static/favicon.svg "$out/favicon.svg"

catalogs="{"
sep=""
for f in i18n/*.ftl; do
  lang="$(basename "$f" .ftl)"
  name="i18n/$lang-$(h "$f").ftl"
  cp "$f" "$out/$name"
  catalogs+="$sep\"$lang\":\"/$name\""
  sep=","
done
catalogs+="}"

# Gzip copies next to the assets: the backend serves them to browsers that accept gzip.
for f in "$out/$wasm_name" "$out/$js_name" "$out/$css_name" "$out"/i18n/*.ftl; do
  gzip -9 -k -n "$f"
done

sed -e "s|@CSS@|/$css_name|g" -e "s|@JS@|/$js_name|g" -e "s|@WASM@|/$wasm_name|g" \
    -e "s|@CATALOGS@|$catalogs|g" index.html > "$out/index.html"
echo "$stamp" > "$out/.stamp"

# Swap in one step so a running server never serves a half-written dist/.
rm -rf "$here/dist.old"
[[ -d "$here/dist" ]] && mv "$here/dist" "$here/dist.old"
mv "$out" "$here/dist"
rm -rf "$here/dist.old"

raw=$(stat -c %s "$here/dist/$wasm_name")
gz=$(gzip -9 -c "$here/dist/$wasm_name" | wc -c)
log "wrote dist/ — $wasm_name: $raw bytes raw, $gz bytes gzipped"
