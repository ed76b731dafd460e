/* Timestamps as seconds since 1970 (UTC), parsed from integers (epoch
 * seconds) or ISO dates "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" (or with 'T'). */
#ifndef GR_HOST_TIMESTAMP_H
#define GR_HOST_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

/* @return 1 and *out on success, 0 on malformed input. */
int gr_parse_timestamp(const char *p, size_t len, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t gr_days_from_civil(int64_t y, int m, int d);

#endif
