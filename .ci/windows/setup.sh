#!/usr/bin/env bash
# Prepares a Linux machine to run Zokio's Windows (x86_64-pc-windows-gnu) test binaries
# under Wine: installs Wine and the MinGW toolchain when missing, then builds the
# bcryptprimitives.dll stand-in (prng_shim.c) into DIR. Usage: setup.sh [DIR]; DIR
# defaults to target/wine-shim in the repository. It prints the runner's settings.
# Exits non-zero after a loud SKIPPED banner when the packages cannot be installed, so
# the caller can skip the Windows step instead of failing the whole run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../target/wine-shim}

skip() { printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!!! SKIPPED: %s\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' "$*" >&2; }

# wine64 alone: the `wine` wrapper package and 32-bit Wine are not needed for 64-bit tests.
# std's build for windows-gnu calls x86_64-w64-mingw32-dlltool (binutils) and the gcc linker.
have() { command -v "$1" >/dev/null 2>&1; }
if ! { have wine64 || [ -x /usr/lib/wine/wine64 ]; } || ! have x86_64-w64-mingw32-gcc \
  || ! have x86_64-w64-mingw32-dlltool; then
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      wine64 gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64; }; then
    skip "Wine or MinGW could not be installed: Windows tests cannot run under Wine here"
    exit 1
  fi
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
# -static-libgcc keeps the DLL free of libgcc's own DLL, which Wine would not find.
x86_64-w64-mingw32-gcc -shared -O2 -s -static-libgcc -o "$out/bcryptprimitives.dll" \
  "$here/prng_shim.c" -ladvapi32
echo "shim built: $out/bcryptprimitives.dll"
echo "export ZOKIO_WINE_SHIM_DIR=$out"
echo "export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$here/wine-runner.sh"
