// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: any bytes as JSON, for memtrace diff's reader. `make fuzz FUZZ_TARGET=fuzz_jsonread` */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);	/* the reader wants a NUL after the text */
	struct jr_value *v;
	size_t at;
	const char *what;

	memcpy(text, data, size);
	text[size] = 0;
	v = jr__parse(text, size, &at, &what);
	if (!v && at > size)
		abort();	/* an error must point inside the input */
	jr__free(v);
	free(text);
	return 0;
}
