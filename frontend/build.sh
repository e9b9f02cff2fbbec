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
# Two builds of one crate (features): the desk (the agent desktop alone) and the console
# (every other screen). index.html loads the one that serves the address; see docs/frontend.md.
builds=(desk console)
for build in "${builds[@]}"; do
  log "compiling the SPA's $build build for wasm32 (Debian rustc $(/usr/bin/rustc --version | cut -d' ' -f2))"
  env -u RUSTC -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u RUSTDOC -u RUSTFLAGS \
      -u CARGO_BUILD_TARGET -u CARGO_BUILD_RUSTC -u CARGO_ENCODED_RUSTFLAGS -u RUSTUP_TOOLCHAIN \
    PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$here/target" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld \
    /usr/bin/cargo build --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort --no-default-features --features "$build" >&2
  cp target/wasm32-unknown-unknown/release/hotline-frontend.wasm "target/hotline-$build.wasm"
done

# ---------------------------------------------------------------- bundle
out="$here/dist.tmp"
rm -rf "$out"
mkdir -p "$out/i18n"
h() { sha256sum "$1" | cut -c1-12; }
declare -A asset
for build in "${builds[@]}"; do
  "$wasm_bindgen" --target web --no-typescript --out-dir "$out/gen" --out-name "hotline-$build" \
    "target/hotline-$build.wasm"
  # binaryen 108 (Debian 12) predates these features being on by default.
  wasm-opt -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-multivalue --enable-mutable-globals \
    "$out/gen/hotline-${build}_bg.wasm" -o "$out/gen/opt.wasm" 2>"$out/wasm-opt.log" \
    || { head -20 "$out/wasm-opt.log" >&2; exit 1; }
  rm -f "$out/wasm-opt.log"
  asset[$build.wasm]="hotline-$build-$(h "$out/gen/opt.wasm").wasm"
  mv "$out/gen/opt.wasm" "$out/${asset[$build.wasm]}"
  asset[$build.js]="hotline-$build-$(h "$out/gen/hotline-$build.js").js"
  mv "$out/gen/hotline-$build.js" "$out/${asset[$build.js]}"
  rm -rf "$out/gen"
done
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
for f in "$out"/*.wasm "$out"/*.js "$out/$css_name" "$out"/i18n/*.ftl; do
  gzip -9 -k -n "$f"
done

sed -e "s|@CSS@|/$css_name|g" \
    -e "s|@DESK_JS@|/${asset[desk.js]}|g" -e "s|@DESK_WASM@|/${asset[desk.wasm]}|g" \
    -e "s|@CONSOLE_JS@|/${asset[console.js]}|g" -e "s|@CONSOLE_WASM@|/${asset[console.wasm]}|g" \
    -e "s|@CATALOGS@|$catalogs|g" index.html > "$out/index.html"
echo "$stamp" > "$out/.stamp"

# Swap in one step so a running server never serves a half-written dist/.
rm -rf "$here/dist.old"
[[ -d "$here/dist" ]] && mv "$here/dist" "$here/dist.old"
mv "$out" "$here/dist"
rm -rf "$here/dist.old"

for build in "${builds[@]}"; do
  w="$here/dist/${asset[$build.wasm]}"
  log "wrote dist/ — ${asset[$build.wasm]}: $(stat -c %s "$w") bytes raw, $(gzip -9 -c -n "$w" | wc -c) bytes gzipped"
done
