/*
 * bcryptprimitives.dll stand-in for running Zokio's Windows tests under Wine.
 *
 * Rust's standard library on x86_64-pc-windows-gnu imports ProcessPrng from
 * bcryptprimitives.dll and reads it for HashMap keys and other randomness. Wine
 * ships that DLL only from 8.13, while the Wine in Debian stable is 8.0: without it
 * every test binary dies at load time with "bcryptprimitives.dll not found".
 * This file builds that one export on top of RtlGenRandom (SystemFunction036 in
 * advapi32), which Wine has long had. It is test scaffolding for CI only and must
 * never be shipped with, or linked into, Zokio itself.
 */
#include <windows.h>

/* RtlGenRandom's real export name; declared here so no header macro is needed. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills `data` with `len` random bytes; TRUE on success, as the real one documents. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a 32-bit length; larger requests go in pieces. */
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
