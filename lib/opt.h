/* Numeric option values, checked the same way by every tool. */
#pragma once

/* Returns s as a number in [min, max]; otherwise exits 64 with one line
 * naming what (an option or variable), the value and the range. */
long long opt_number(const char *what, const char *s, long long min,
    long long max);
