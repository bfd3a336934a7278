#ifndef VCSA_CZLIB_SHIM_H
#define VCSA_CZLIB_SHIM_H
#include <zlib.h>

/// deflateInit2 is a macro; Swift cannot call macros.
static inline int vcsa_deflate_init_gzip(z_streamp stream, int level) {
    // windowBits 15 + 16 selects the gzip wrapper.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
