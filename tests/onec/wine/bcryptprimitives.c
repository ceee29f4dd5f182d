/*
 * bcryptprimitives.c: a stand-in for Windows' bcryptprimitives.dll, for wine only.
 *
 * Rust's standard library (1.78 and later) takes its random seeds from ProcessPrng in
 * bcryptprimitives.dll, which every Windows since 10 has, but Debian 12's wine 8.0 does
 * not. `make onec-wine-check` builds this DLL beside load_check.exe, where the loader
 * looks first, so the add-in loads under that wine; Windows itself never sees it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T bytes) {
    while (bytes > 0) {
        ULONG chunk = bytes > 0x10000000 ? 0x10000000 : (ULONG)bytes;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
            return FALSE;
        }
        data += chunk;
        bytes -= chunk;
    }
    return TRUE;
}
