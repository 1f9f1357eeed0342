#!/bin/bash
# Every seed and regression input of the fuzz targets (fuzz/corpus/) runs
# through its target once: the parsers' past findings stay fixed in any
# build, and the sanitizer build checks them under ASan and UBSan.
. "$top_srcdir/tests/libtest.sh"

targets="ticket ts http handshake signaling config hostclock"
plan 14
for t in $targets; do
	prog=$top_builddir/fuzz/fuzz-$t
	files=("$top_srcdir/fuzz/corpus/$t"/*)
	out=$("$prog" "${files[@]}" 2>&1)
	rc=$?
	ok "fuzz-$t runs its ${#files[@]} corpus inputs" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || diag "$(tail -n 20 <<<"$out")"
	unlike "$out" 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "fuzz-$t: no sanitizer report"
done
