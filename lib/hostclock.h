/* The host's wall clock in the stream. pp-encode muxes a metadata
 * stream of KLV packets (SMPTE 336: a 16-byte key, a BER length, the
 * value) into its MPEG-TS, about one a second; each says what the host's
 * CLOCK_REALTIME read at the running time its PES is stamped with. A
 * viewer maps any picture's PTS to the host's wall time through the
 * latest one, and its own CLOCK_REALTIME at display less that is how far
 * behind the host it shows the picture. Layout, in pp-encode(1):
 *   key    the 15 ASCII bytes "pixelpass clock", then 0x01 (the version)
 *   length 0x08
 *   value  microseconds since the epoch, signed, big-endian
 * The key is none of SMPTE's (those begin 06 0e 2b 34), so a KLV decoder
 * for aircraft metadata skips it. Every function takes untrusted bytes. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTCLOCK_KEY		"pixelpass clock\x01"
#define HOSTCLOCK_KEY_SIZE	16
#define HOSTCLOCK_PACKET_SIZE	(HOSTCLOCK_KEY_SIZE + 1 + 8)
/* How often pp-encode sends one, in stream time. */
#define HOSTCLOCK_INTERVAL_MS	1000

/* Makes the packet saying the host's wall time is WALL_US. */
void hostclock_pack(uint8_t out[HOSTCLOCK_PACKET_SIZE], int64_t wall_us);
/* Finds a clock packet in the KLV packets of P[0..LEN) (a PES may carry
 * several, of other keys too) and gives its wall time; FALSE when none
 * is there or it is cut short. */
gboolean hostclock_parse(const uint8_t *p, size_t len, int64_t *wall_us);
