/* lib/hostclock: the KLV packets that carry the host's wall clock. */
#include <string.h>

#include "hostclock.h"
#include "tap.h"

#define KEY "pixelpass clock\x01"

int
main(void)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
		gboolean found;
		int64_t wall_us;
	} cases[] = {
		{ "the packet pp-encode makes",
		    KEY "\x08\x00\x06\x0e\x2b\x34\x00\x00\x01", 25, TRUE,
		    0x00060e2b34000001 },
		{ "after a packet of another key",
		    "0123456789abcdef\x02xy" KEY "\x08\x00\x00\x00\x00\x00\x00\x00\x2a",
		    19 + 25, TRUE, 42 },
		{ "a BER long-form length",
		    KEY "\x81\x08\x00\x00\x00\x00\x00\x00\x00\x07", 26, TRUE, 7 },
		{ "a negative time (before 1970)",
		    KEY "\x08\xff\xff\xff\xff\xff\xff\xff\xff", 25, TRUE, -1 },
		{ "cut short", KEY "\x08\x00\x00\x00", 20, FALSE, 0 },
		{ "the key alone", KEY, 16, FALSE, 0 },
		{ "a value of another size", KEY "\x04\x00\x00\x00\x01", 21, FALSE, 0 },
		{ "a length longer than the packet",
		    KEY "\x84\xff\xff\xff\xff\x00", 22, FALSE, 0 },
		{ "another key only",
		    "0123456789abcdef\x08\x00\x00\x00\x00\x00\x00\x00\x01", 25, FALSE, 0 },
		{ "nothing", "", 0, FALSE, 0 },
	};
	static const int64_t round[] = { 0, 1, 1796284800000000, INT64_MAX, INT64_MIN };
	uint8_t pkt[HOSTCLOCK_PACKET_SIZE];
	int64_t got;

	printf("1..%zu\n", G_N_ELEMENTS(cases) + G_N_ELEMENTS(round) + 1);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		gboolean found;

		got = 0;
		found = hostclock_parse((const uint8_t *)cases[i].bytes,
		    cases[i].len, &got);
		ok(found == cases[i].found && got == cases[i].wall_us, "%s: %s",
		    cases[i].what, cases[i].found ? "found" : "none");
		if (found != cases[i].found || got != cases[i].wall_us)
			diag("found %d, %" G_GINT64_FORMAT, found, got);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(round); i++) {
		hostclock_pack(pkt, round[i]);
		ok(hostclock_parse(pkt, sizeof(pkt), &got) && got == round[i],
		    "%" G_GINT64_FORMAT " µs there and back", round[i]);
	}
	hostclock_pack(pkt, 1);
	ok(memcmp(pkt, KEY "\x08\x00\x00\x00\x00\x00\x00\x00\x01", 25) == 0,
	    "the layout pp-encode(1) gives");
	return n_failed != 0;
}
