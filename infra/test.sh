#!/usr/bin/env bash
# The README's test command: installs what is missing, makes Postgres and Redis reachable,
# builds everything (SPA included) and runs every test of the workspace.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
cd "$HOTLINE_ROOT"

log "checking formatting"
cargo fmt --all -- --check

log "installing the test OpenID provider (oidc-provider, npm)"
(cd backend/tests/oidc && { [ -d node_modules/oidc-provider ] || npm ci --no-audit --no-fund --loglevel=error; })

log "installing axe-core (npm) for the accessibility audit"
(cd tests/axe && { [ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund --loglevel=error; })

# Schemathesis (PyPI), pinned, in a venv under the ignored .local/; run by
# backend/tests/schemathesis.rs. Nothing is fetched when that version is already there.
SCHEMATHESIS_VERSION=4.32.5
if ! .local/venv/bin/schemathesis --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into .local/venv"
  [ -x .local/venv/bin/pip ] || python3 -m venv .local/venv
  .local/venv/bin/pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi

if [ -x frontend/build.sh ]; then
  log "building the web app"
  frontend/build.sh >&2
fi

log "dropping databases left by earlier test runs"
psql -q "$HOTLINE_TEST_DATABASE_URL" -Atc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'hotline\_test\_%'" | while read -r db; do
  psql -q "$HOTLINE_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true
done

log "lint: clippy with warnings as errors"
cargo clippy --workspace --all-targets -q -- -D warnings

log "building and running every test"
cargo build --workspace --bins -q
cargo test --workspace --no-fail-fast -- --test-threads="${HOTLINE_TEST_THREADS:-4}"
