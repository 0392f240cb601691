// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: any bytes as a recording, through the reader and the whole replay (aggregate,
 * symbolizer fed recorded maps and symbols, snapshot, JSON report). It must end in a clean error
 * or a report, never a crash, a leak or undefined behaviour. Local binaries are never opened.
 *
 * Two shapes of input, by the first byte. Odd (as a file's "M"): the bytes are the file, which
 * tests the framing (header, block lengths, crc, zstd). Even: the rest is raw record bytes in
 * chunks, each "u16 length, bytes", which the harness compresses into valid blocks -- otherwise
 * nearly every mutation dies at the crc check and the record decoders (events, the stack table)
 * and the aggregate are never reached. Then the chunk length's top bit damages the zstd frame
 * under a right crc: a magic byte flipped, or its last byte cut, as a hostile file could.
 * tests/fuzz/unwrap.py turns a recording into that shape, for a seed.
 * Run with `make fuzz` (FUZZ_SECONDS, default 180).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "record/recording.h"
#include "session/replay.h"
#include "present/report.h"

static size_t wrap(const uint8_t *data, size_t size, uint8_t **out)
{
	size_t cap = REC_HEADER_SIZE + 2 * size + 64, len = REC_HEADER_SIZE;
	uint8_t *buf = malloc(cap);
	uint32_t v = REC_VERSION, flags = 0;

	memcpy(buf, REC_MAGIC, 8);
	memcpy(buf + 8, &v, 4);
	memcpy(buf + 12, &flags, 4);
	while (size >= 2) {
		size_t n = (size_t)(data[0] | (data[1] & 0x7f) << 8), zlen;
		int damage = data[1] >> 7;
		uint32_t hdr[3];

		data += 2;
		size -= 2;
		n = n < size ? n : size;
		zlen = ZSTD_compressBound(n);
		buf = realloc(buf, cap += REC_BLOCK_HEADER_SIZE + zlen);
		zlen = ZSTD_compress(buf + len + REC_BLOCK_HEADER_SIZE, zlen, data, n, 1);
		if (damage && n & 1)
			buf[len + REC_BLOCK_HEADER_SIZE + n % zlen] ^= 0x20;
		else if (damage && zlen > 1)
			zlen--;
		hdr[0] = (uint32_t)zlen;
		hdr[1] = (uint32_t)n;
		hdr[2] = (uint32_t)crc32(0, buf + len + REC_BLOCK_HEADER_SIZE, (uInt)zlen);
		memcpy(buf + len, hdr, sizeof(hdr));
		len += REC_BLOCK_HEADER_SIZE + zlen;
		data += n;
		size -= n;
	}
	*out = buf;
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *wrapped = NULL;
	struct replay *r;
	FILE *f, *out;

	if (size && !(data[0] & 1))
		size = wrap(data + 1, size - 1, &wrapped);
	if (!size)
		return 0;	/* fmemopen refuses an empty buffer; an empty file is tested elsewhere */
	f = fmemopen(wrapped ? wrapped : (void *)data, size, "r");
	if (f && replay__load(f, "fuzz", false, &r) == 0) {
		out = fopen("/dev/null", "w");
		report__json(replay__snapshot(r), out);
		fclose(out);
		replay__free(r);
	}
	if (f)
		fclose(f);
	free(wrapped);
	return 0;
}
