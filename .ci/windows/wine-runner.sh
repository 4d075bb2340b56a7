#!/usr/bin/env bash
# Cargo target runner for x86_64-pc-windows-gnu: runs a Windows executable under 64-bit
# Wine and exits with its exit code. Set CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER to
# this file's absolute path; run setup.sh first. Settings (environment):
#   ZOKIO_WINE_SHIM_DIR  folder holding setup.sh's bcryptprimitives.dll
#                        (default: target/wine-shim in the repository)
#   ZOKIO_WINEPREFIX     Wine's private C: drive, created on first use
#                        (default: target/wineprefix in the repository)
# The first call leaves a wineserver running for the prefix; stop it afterwards with
# `WINEPREFIX=... wineserver -k`, or it exits by itself a minute after the last program.
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
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver64)

if ! [ -f "$shim/bcryptprimitives.dll" ]; then
  echo "wine-runner: no bcryptprimitives.dll in $shim: run .ci/windows/setup.sh first" \
    "(and set ZOKIO_WINE_SHIM_DIR to the folder it prints)" >&2
  exit 2
fi

# First use: create the prefix once, quietly; the lock keeps parallel callers from racing.
# Nothing started here may inherit the lock (fd 9): a wineserver would hold it for life.
mkdir -p "$WINEPREFIX"
(
  flock 9
  # A wineserver that lingers 60 s after its last client. With Wine's default of 3 s, a
  # program that starts just as the server decides to exit dies with "wine client error:
  # recvmsg: Connection reset by peer" before its first line (about one run in four).
  # Starting it while one runs is harmless: the new one sees the old and leaves.
  "$wineserver" -p60 >/dev/null 2>&1 9>&- || true
  # wineboot returns before wineserver writes the registry out, hence a marker of our own.
  if ! [ -f "$WINEPREFIX/.zokio-ready" ]; then
    "$wine" wineboot --init >/dev/null 2>&1 9>&- \
      || { echo "wine-runner: wineboot could not create the prefix $WINEPREFIX" >&2; exit 2; }
    touch "$WINEPREFIX/.zokio-ready"
  fi
) 9>"$WINEPREFIX.lock"

# Wine 8.0 lacks bcryptprimitives.dll; PATH is in the DLL search order, so the shim is found.
shim=$(cd "$shim" && pwd)
export WINEPATH="Z:${shim//\//\\}"

# Should the server still vanish under a starting program, the program never runs:
# Wine says "wine client error" before its first line, or the run ends, failed,
# having printed nothing at all (a test harness always prints first). Such a run is
# tried once more; any other failure is the program's own and is returned as it is.
# Both streams go to stdout, through tee, which the pipeline waits for.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2; do
  status=0
  "$wine" "$@" 2>&1 | tee "$log" || status=$?  # pipefail: wine's status
  if [ "$status" -ne 0 ] && [ "$attempt" = 1 ] \
    && { grep -q '^wine client error' "$log" || ! [ -s "$log" ]; }; then
    echo "wine-runner: $1 did not start under Wine (status $status); running it again" >&2
    "$wineserver" -p60 >/dev/null 2>&1 || true
    continue
  fi
  exit "$status"
done
