# Shared helpers for scripts/*: phase timing, logging, cache paths. Sourced, not run.

COUNCIL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNCIL_CACHE="${COUNCIL_CACHE:-$HOME/.cache/council}"
COUNCIL_VENV="$COUNCIL_CACHE/venv"
COUNCIL_MODEL_DIR="$COUNCIL_CACHE/models"
export COUNCIL_TEST_MODEL="${COUNCIL_TEST_MODEL:-$COUNCIL_MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf}"
export COUNCIL_REFERENCE_DIR="${COUNCIL_REFERENCE_DIR:-$COUNCIL_ROOT/target/reference}"
# wasm-opt comes from npm binaryen (see scripts/setup for why not Debian's).
COUNCIL_BINARYEN="$COUNCIL_CACHE/tools/binaryen"
export PATH="$COUNCIL_BINARYEN/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
mkdir -p "$COUNCIL_CACHE"
# CI runs in a fresh clone each time; building into a target dir kept in the cache lets it
# reuse compiled dependencies (workspace crates still rebuild: their paths differ).
if [ -n "${CI:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then export CARGO_TARGET_DIR="$COUNCIL_CACHE/ci-target"; fi
COUNCIL_TARGET="${CARGO_TARGET_DIR:-$COUNCIL_ROOT/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# phase NAME CMD...: runs CMD and prints one timing line, so the cost of each phase is visible.
phase() {
  local name="$1"; shift
  local t0=$SECONDS
  say "$name"
  "$@" || { local rc=$?; printf 'timing: %-28s FAILED after %4ds\n' "$name" $((SECONDS - t0)) >&2; return $rc; }
  printf 'timing: %-28s %5ds\n' "$name" $((SECONDS - t0)) >&2
}

# The wasm-bindgen version the app is built against (Cargo.lock is the source of truth).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$COUNCIL_ROOT/Cargo.lock"
}
