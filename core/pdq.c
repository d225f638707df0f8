/* PDQ: 256-bit perceptual hash of a luminance plane, bit-compatible with Meta's reference.
 *
 * Every float operation below is ordered as in the reference so that hashes agree bit for bit;
 * the file is compiled with -ffp-contract=off so no fused multiply-add can change a rounding.
 * Speed comes from memory order, not from reordering arithmetic: the column pass of the box
 * filter runs along whole rows (the same sums per column, computed side by side), and the DCT
 * loops keep each accumulator's additions in the reference order while the compiler vectorises
 * across independent outputs. */
#include "core/internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define GRID 64      /* the plane is decimated to GRID x GRID */
#define COEFS 16     /* low-frequency DCT coefficients kept per axis */
#define PI_D 3.14159265358979323846

/* The hot loops are built twice, for AVX2 and for the baseline, and picked at load time. Both
 * give identical bits: only IEEE add, subtract, multiply and divide are used, never fused. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define LK_HOT __attribute__((target_clones("avx2", "default")))
#else
#define LK_HOT
#endif

static float dct[COEFS][GRID];   /* D[k][j] = sqrt(2/64) cos(pi (k+1)(2j+1) / 128) */
static float dct_t[GRID][COEFS]; /* D transposed, for the second product */
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void build_dct(void)
{
	const float scale = (float)sqrt(2.0 / GRID);
	for (int k = 0; k < COEFS; k++)
		for (int j = 0; j < GRID; j++) {
			float v = (float)(scale * cos((PI_D / 2 / GRID) * (k + 1) * (2 * j + 1)));
			dct[k][j] = v;
			dct_t[j][k] = v;
		}
}

/* The reference's window: ceil(n / 128), i.e. twice the decimation step, rounded up. */
static int window_size(int n)
{
	return (n + 2 * GRID - 1) / (2 * GRID);
}

/* Box filter along each column, computed a whole row at a time: `sums` holds one running sum
 * per column. Each column sees exactly the reference's sequence of operations. */
LK_HOT static void box_cols(const float *restrict in, float *restrict out, float *restrict sums, int rows, int cols, int w)
{
	const int half = (w + 2) / 2;
	const int grow_silent = half - 1;
	const int grow_write = w - half + 1;
	const int slide = rows - w;
	const int shrink = half - 1;
	const float *add = in, *sub = in;
	float *dst = out;
	int count = 0;
	memset(sums, 0, sizeof(float) * (size_t)cols);
	for (int i = 0; i < grow_silent; i++, add += cols) {
		count++;
		for (int c = 0; c < cols; c++)
			sums[c] += add[c];
	}
	for (int i = 0; i < grow_write; i++, add += cols, dst += cols) {
		count++;
		const float n = (float)count;
		for (int c = 0; c < cols; c++) {
			sums[c] += add[c];
			dst[c] = sums[c] / n;
		}
	}
	for (int i = 0; i < slide; i++, add += cols, sub += cols, dst += cols) {
		const float n = (float)count;
		for (int c = 0; c < cols; c++) {
			sums[c] += add[c];
			sums[c] -= sub[c];
			dst[c] = sums[c] / n;
		}
	}
	for (int i = 0; i < shrink; i++, sub += cols, dst += cols) {
		count--;
		const float n = (float)count;
		for (int c = 0; c < cols; c++) {
			sums[c] -= sub[c];
			dst[c] = sums[c] / n;
		}
	}
}

/* out (cols x rows) = in (rows x cols) transposed, in cache-sized tiles. */
LK_HOT static void transpose(const float *restrict in, float *restrict out, int rows, int cols)
{
	enum { T = 8 };
	for (int r0 = 0; r0 < rows; r0 += T)
		for (int c0 = 0; c0 < cols; c0 += T) {
			const int r1 = r0 + T < rows ? r0 + T : rows, c1 = c0 + T < cols ? c0 + T : cols;
			for (int c = c0; c < c1; c++)
				for (int r = r0; r < r1; r++)
					out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
		}
}

/* Two rounds of (rows, then columns) box filtering; the result ends up back in `plane`.
 * The row pass runs as a column pass over the transposed plane: each row's running sum is then
 * one vector lane, computed in the reference's order, instead of a serial chain of dependent
 * adds and divisions. `t1` and `t2` hold rows x cols floats each. */
static void jarosz(float *plane, float *t1, float *t2, float *sums, int rows, int cols)
{
	const int wx = window_size(cols), wy = window_size(rows);
	for (int round = 0; round < 2; round++) {
		transpose(plane, t1, rows, cols);
		box_cols(t1, t2, sums, cols, rows, wx);
		transpose(t2, t1, cols, rows);
		box_cols(t1, plane, sums, rows, cols, wy);
	}
}

static void decimate(const float *plane, int rows, int cols, float grid[GRID][GRID])
{
	int col_of[GRID];
	for (int j = 0; j < GRID; j++)
		col_of[j] = (int)((j + 0.5) * cols / GRID);
	for (int i = 0; i < GRID; i++) {
		const float *row = plane + (size_t)(int)((i + 0.5) * rows / GRID) * cols;
		for (int j = 0; j < GRID; j++)
			grid[i][j] = row[col_of[j]];
	}
}

/* Sum of truncated neighbour differences in percent of full scale, divided by 90, capped. */
static int quality_of(float grid[GRID][GRID])
{
	int total = 0;
	for (int i = 0; i < GRID - 1; i++)
		for (int j = 0; j < GRID; j++) {
			int d = (int)(((grid[i][j] - grid[i + 1][j]) * 100) / 255);
			total += abs(d);
		}
	for (int i = 0; i < GRID; i++)
		for (int j = 0; j < GRID - 1; j++) {
			int d = (int)(((grid[i][j] - grid[i][j + 1]) * 100) / 255);
			total += abs(d);
		}
	int q = total / 90;
	return q > 100 ? 100 : q;
}

/* B = D A D^T, each sum accumulated over the inner index in ascending order. */
LK_HOT static void dct_16x16(float grid[GRID][GRID], float b[COEFS][COEFS])
{
	float t[COEFS][GRID];
	for (int k = 0; k < COEFS; k++) {
		for (int j = 0; j < GRID; j++)
			t[k][j] = 0.0f;
		for (int m = 0; m < GRID; m++) {
			const float d = dct[k][m];
			for (int j = 0; j < GRID; j++)
				t[k][j] += d * grid[m][j];
		}
	}
	for (int k = 0; k < COEFS; k++) {
		for (int l = 0; l < COEFS; l++)
			b[k][l] = 0.0f;
		for (int m = 0; m < GRID; m++) {
			const float v = t[k][m];
			for (int l = 0; l < COEFS; l++)
				b[k][l] += v * dct_t[m][l];
		}
	}
}

/* The k-th smallest of n values (Hoare selection on a copy). */
static float select_kth(float *v, int n, int k)
{
	int lo = 0, hi = n - 1;
	while (lo < hi) {
		const float pivot = v[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				float x = v[i];
				v[i] = v[j];
				v[j] = x;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* Bit 16k + l is set iff coefficient (k, l) exceeds the lower median; word k is row k, printed
 * from word 15 down, so row k lands in bytes 2(15-k) (high) and 2(15-k)+1 (low). */
static void threshold(const float b[COEFS][COEFS], lk_pdq_hash *out)
{
	float copy[COEFS * COEFS];
	memcpy(copy, b, sizeof copy);
	const float median = select_kth(copy, COEFS * COEFS, COEFS * COEFS / 2 - 1);
	for (int k = 0; k < COEFS; k++) {
		unsigned word = 0;
		for (int l = 0; l < COEFS; l++)
			if (b[k][l] > median)
				word |= 1u << l;
		out->bytes[(COEFS - 1 - k) * 2] = (unsigned char)(word >> 8);
		out->bytes[(COEFS - 1 - k) * 2 + 1] = (unsigned char)(word & 0xff);
	}
}

/* A dihedral variant of the coefficient matrix: optionally transpose, and negate the
 * coefficients whose source index parity says the transform flips their basis function. */
enum negate_rule { NEG_NONE, NEG_ROW_EVEN, NEG_COL_EVEN, NEG_SUM_ODD };

static const struct {
	int transpose;
	enum negate_rule negate;
} dihedral_rules[LK_DIHEDRAL_COUNT] = {
	[LK_DIHEDRAL_ORIGINAL] = { 0, NEG_NONE },
	[LK_DIHEDRAL_ROT90] = { 1, NEG_COL_EVEN },
	[LK_DIHEDRAL_ROT180] = { 0, NEG_SUM_ODD },
	[LK_DIHEDRAL_ROT270] = { 1, NEG_ROW_EVEN },
	[LK_DIHEDRAL_FLIPX] = { 0, NEG_ROW_EVEN },
	[LK_DIHEDRAL_FLIPY] = { 0, NEG_COL_EVEN },
	[LK_DIHEDRAL_FLIP_PLUS1] = { 1, NEG_NONE },
	[LK_DIHEDRAL_FLIP_MINUS1] = { 1, NEG_SUM_ODD },
};

static void dihedral(const float b[COEFS][COEFS], int which, float out[COEFS][COEFS])
{
	for (int k = 0; k < COEFS; k++)
		for (int l = 0; l < COEFS; l++) {
			const int sk = dihedral_rules[which].transpose ? l : k;
			const int sl = dihedral_rules[which].transpose ? k : l;
			int neg = 0;
			switch (dihedral_rules[which].negate) {
			case NEG_NONE: break;
			case NEG_ROW_EVEN: neg = sk % 2 == 0; break;
			case NEG_COL_EVEN: neg = sl % 2 == 0; break;
			case NEG_SUM_ODD: neg = (sk + sl) % 2 == 1; break;
			}
			out[k][l] = neg ? -b[sk][sl] : b[sk][sl];
		}
}

/* The plane and the filter's three work areas share one block. Each area starts a different
 * number of cache lines past a 4 KiB boundary: when a loop loads from one plane and stores to
 * another at the same offset, equal addresses modulo 4 KiB stall the store buffer ("4K
 * aliasing"). With separately malloc'd planes the PDQ core took 0.65 or 0.9 ms at 512 depending
 * on where the allocator happened to put them. */
static size_t area_floats(int rows, int cols)
{
	const size_t n = (size_t)rows * cols + (size_t)(rows > cols ? rows : cols);
	return (n + 1023) / 1024 * 1024 + 144; /* whole pages, then 9 cache lines further */
}

float *lk__pdq_plane_buffer(int rows, int cols)
{
	return lk__scratch(LK_SCRATCH_PLANES, 3 * area_floats(rows, cols) * sizeof(float) +
						     (size_t)(rows > cols ? rows : cols) * sizeof(float));
}

void lk__pdq_plane(lk_pdq_result *out, float *plane, int rows, int cols)
{
	memset(out->hash, 0, sizeof out->hash);
	out->quality = 0;
	if (rows < 5 || cols < 5)
		return;
	pthread_once(&dct_once, build_dct);

	float grid[GRID][GRID];
	if (rows == GRID && cols == GRID) {
		memcpy(grid, plane, sizeof grid);
	} else {
		const size_t area = area_floats(rows, cols);
		float *t1 = plane + area, *t2 = t1 + area, *sums = t2 + area;
		jarosz(plane, t1, t2, sums, rows, cols);
		decimate(plane, rows, cols, grid);
	}
	out->quality = quality_of(grid);

	float b[COEFS][COEFS], v[COEFS][COEFS];
	dct_16x16(grid, b);
	threshold(b, &out->hash[LK_DIHEDRAL_ORIGINAL]);
	for (int d = 1; d < LK_DIHEDRAL_COUNT; d++) {
		dihedral(b, d, v);
		threshold(v, &out->hash[d]);
	}
}
