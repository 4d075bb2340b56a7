#!/usr/bin/env bash
# Cargo target runner for x86_64-pc-windows-gnu: runs a Windows executable under 64-bit
# Wine and exits with its exit code. Set CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER to
# this file's absolute path; run setup.sh first. Settings (environment):
#   ZOKIO_WINE_SHIM_DIR  folder holding setup.sh's bcryptprimitives.dll
#                        (default: target/wine-shim in the repository)
#   ZOKIO_WINEPREFIX     Wine's private C: drive, created on first use
#                        (default: target/wineprefix in the repository)
# It must never touch the user's own ~/.wine: tests get a prefix of their own.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PROGRAM.exe [ARGS...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
shim=${ZOKIO_WINE_SHIM_DIR:-$here/../../target/wine-shim}
export WINEPREFIX=${ZOKIO_WINEPREFIX:-$here/../../target/wineprefix}
export WINEDEBUG=-all
# No Mono or Gecko download prompts when the prefix is created (no display, no network).
export WINEDLLOVERRIDES="mscoree,mshtml="
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)

if ! [ -f "$shim/bcryptprimitives.dll" ]; then
  echo "wine-runner: no bcryptprimitives.dll in $shim: run .ci/windows/setup.sh first" \
    "(and set ZOKIO_WINE_SHIM_DIR to the folder it prints)" >&2
  exit 2
fi

# First use: create the prefix once, quietly; the lock keeps parallel callers from racing.
mkdir -p "$WINEPREFIX"
(
  flock 9
  # wineboot returns before wineserver writes the registry out, hence a marker of our own.
  if ! [ -f "$WINEPREFIX/.zokio-ready" ]; then
    "$wine" wineboot --init >/dev/null 2>&1 \
      || { echo "wine-runner: wineboot could not create the prefix $WINEPREFIX" >&2; exit 2; }
    touch "$WINEPREFIX/.zokio-ready"
  fi
) 9>"$WINEPREFIX.lock"

# Wine 8.0 lacks bcryptprimitives.dll; PATH is in the DLL search order, so the shim is found.
shim=$(cd "$shim" && pwd)
export WINEPATH="Z:${shim//\//\\}"
exec "$wine" "$@"
