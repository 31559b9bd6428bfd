// What libsxengine.so exports: only declarations marked SX_EXPORT (the
// public API in include/sx/); everything else is built with hidden
// visibility, so the engine's internals are no ABI (docs/LIBRARY.md).
#pragma once

#if defined(__GNUC__)
#define SX_EXPORT __attribute__((visibility("default")))
#else
#define SX_EXPORT
#endif
