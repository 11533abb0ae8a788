/*
 * libs-zlib: exercises zlib for libs.sh, which links it with zlib's objects
 * as Debian ships them (libz.a) and with the same objects rewritten: every
 * round trip must give back its input byte for byte, and what it prints
 * (sizes, checksums) must not change with the rewrite.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Data of kind @k: zeros, text-like, random, short repeats, a ramp. */
static void fill(unsigned char *p, size_t n, unsigned k)
{
	static const char words[] = "the quick brown fox jumps over a lazy dog while zlib packs ";
	for (size_t i = 0; i < n; i++) {
		switch (k % 5) {
		case 0:
			p[i] = 0;
			break;
		case 1:
			p[i] = (unsigned char)words[(i * 7 + next() % 3) % (sizeof(words) - 1)];
			break;
		case 2:
			p[i] = (unsigned char)next();
			break;
		case 3:
			p[i] = (unsigned char)("abcab"[i % 5] + (i / 4096));
			break;
		default:
			p[i] = (unsigned char)(i * 31 + (i >> 9));
			break;
		}
	}
}

static int fails;

static void check(int ok, const char *what, size_t n, unsigned k)
{
	if (!ok) {
		printf("FAIL %s n=%zu kind=%u\n", what, n, k);
		fails++;
	}
}

/* deflate with @level, @bits, @strategy in small steps, inflate in small
 * steps, compare. */
static void stream_round(const unsigned char *in, size_t n, unsigned k, int level, int bits,
			 int strategy)
{
	/* each sync flush adds a few bytes */
	size_t cap = compressBound(n) + 6 * (n / 1 + 1) / 1000 + 1024;
	unsigned char *c = malloc(cap), *back = malloc(n + 1);
	z_stream d = {0}, f = {0};
	check(deflateInit2(&d, level, Z_DEFLATED, bits, 8, strategy) == Z_OK, "deflateInit2", n, k);
	d.next_out = c;
	d.avail_out = (uInt)cap;
	size_t at = 0;
	int r;
	do {
		size_t step = 1 + next() % 7000;
		if (step > n - at)
			step = n - at;
		d.next_in = (unsigned char *)in + at;
		d.avail_in = (uInt)step;
		at += step;
		r = deflate(&d, at == n ? Z_FINISH : (next() % 4 ? Z_NO_FLUSH : Z_SYNC_FLUSH));
	} while (r == Z_OK);
	check(r == Z_STREAM_END, "deflate", n, k);
	size_t clen = d.total_out;
	deflateEnd(&d);
	check(inflateInit2(&f, bits) == Z_OK, "inflateInit2", n, k);
	f.next_in = c;
	f.avail_in = (uInt)clen;
	size_t out = 0;
	do {
		size_t step = 1 + next() % 5000;
		f.next_out = back + out;
		f.avail_out = (uInt)(step > n + 1 - out ? n + 1 - out : step);
		r = inflate(&f, Z_NO_FLUSH);
		out = f.total_out;
	} while (r == Z_OK && out <= n);
	check(r == Z_STREAM_END && out == n && memcmp(in, back, n) == 0, "inflate", n, k);
	inflateEnd(&f);
	printf("stream n=%zu kind=%u level=%d bits=%d strategy=%d -> %zu crc %08lx\n", n, k, level,
	       bits, strategy, clen, crc32(0, c, (uInt)clen));
	free(c);
	free(back);
}

static unsigned back_in(void *d, z_const unsigned char **buf)
{
	unsigned char **p = d;
	*buf = p[0];
	unsigned len = (unsigned)(p[1] - p[0]);
	p[0] = p[1];
	return len;
}

static int back_out(void *d, unsigned char *buf, unsigned len)
{
	unsigned char **p = d;
	memcpy(p[0], buf, len);
	p[0] += len;
	return 0;
}

/* inflateBack on a raw deflate stream. */
static void back_round(const unsigned char *in, size_t n, unsigned k)
{
	size_t cap = compressBound(n) + 64;
	unsigned char *c = malloc(cap), *back = malloc(n + 1), window[32768];
	z_stream d = {0}, b = {0};
	deflateInit2(&d, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	d.next_in = (unsigned char *)in;
	d.avail_in = (uInt)n;
	d.next_out = c;
	d.avail_out = (uInt)cap;
	check(deflate(&d, Z_FINISH) == Z_STREAM_END, "raw deflate", n, k);
	unsigned char *src[2] = {c, c + d.total_out}, *dst[1] = {back};
	deflateEnd(&d);
	check(inflateBackInit(&b, 15, window) == Z_OK, "inflateBackInit", n, k);
	check(inflateBack(&b, back_in, src, back_out, dst) == Z_STREAM_END, "inflateBack", n, k);
	check((size_t)(dst[0] - back) == n && memcmp(in, back, n) == 0, "inflateBack data", n, k);
	inflateBackEnd(&b);
	free(c);
	free(back);
}

static void gz_round(const unsigned char *in, size_t n, unsigned k)
{
	gzFile g = gzopen("libs-zlib.gz", k % 2 ? "wb9" : "wb1h");
	check(g != NULL, "gzopen w", n, k);
	if (!g)
		return;
	gzprintf(g, "header %u %zu\n", k, n);
	check(gzwrite(g, in, (unsigned)n) == (int)n || n == 0, "gzwrite", n, k);
	gzputs(g, "trailer\n");
	gzclose(g);
	unsigned char *back = malloc(n + 64);
	char line[64];
	g = gzopen("libs-zlib.gz", "rb");
	check(g != NULL && gzgets(g, line, sizeof(line)) != NULL, "gzgets", n, k);
	check(gzread(g, back, (unsigned)n) == (int)n, "gzread", n, k);
	check(memcmp(in, back, n) == 0, "gzread data", n, k);
	check(gzgets(g, line, sizeof(line)) && strcmp(line, "trailer\n") == 0, "gz trailer", n, k);
	check(gzgetc(g) == -1 && gzeof(g), "gzeof", n, k);
	gzclose(g);
	free(back);
}

int main(void)
{
	static const size_t sizes[] = {0, 1, 2, 17, 300, 4096, 65537, 250000};
	static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
					 Z_FIXED};
	printf("zlib %s\n", zlibVersion());
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (unsigned k = 0; k < 5; k++) {
			size_t n = sizes[si];
			unsigned char *in = malloc(n + 1), *c, *back = malloc(n + 1);
			fill(in, n, k);
			uLong crc = crc32(0, in, (uInt)n), ad = adler32(1, in, (uInt)n);
			uLong h = n / 3;
			uLong crc2 =
				crc32_combine(crc32(0, in, (uInt)h),
					      crc32(0, in + h, (uInt)(n - h)), (z_off_t)(n - h));
			uLong ad2 = adler32_combine(adler32(1, in, (uInt)h),
						    adler32(1, in + h, (uInt)(n - h)),
						    (z_off_t)(n - h));
			check(crc == crc2 && ad == ad2, "combine", n, k);
			printf("n=%zu kind=%u crc32 %08lx adler32 %08lx\n", n, k, crc, ad);
			for (int level = 0; level <= 9; level += (n > 70000 ? 3 : 1)) {
				uLongf cl = compressBound(n);
				c = malloc(cl);
				check(compress2(c, &cl, in, n, level) == Z_OK, "compress2", n, k);
				uLongf bl = n + 1;
				check(uncompress(back, &bl, c, cl) == Z_OK && bl == n &&
					      memcmp(in, back, n) == 0,
				      "uncompress", n, k);
				printf("  level %d -> %lu\n", level, cl);
				free(c);
			}
			stream_round(in, n, k, (int)(k * 2 + 1), 15, strategies[k]);
			stream_round(in, n, k, 9 - (int)k, 31, strategies[(k + 2) % 5]);
			stream_round(in, n, k, 5, -9, strategies[(k + 1) % 5]);
			back_round(in, n, k);
			gz_round(in, n, k);
			free(in);
			free(back);
		}
	}
	printf("%s\n", fails ? "FAILED" : "all round trips ok");
	return fails != 0;
}
