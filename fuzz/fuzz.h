/* The libFuzzer entry point every target defines. Built with libFuzzer
 * (./configure --enable-fuzzing) it is driven by the fuzzer; otherwise
 * fuzz/replay.c calls it once per corpus file, so that `make check` runs
 * every seed and every regression input in any build. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
