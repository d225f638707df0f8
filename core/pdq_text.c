/* PDQ hashes as text, and the distance between two hashes. */
#include "core/internal.h"

#include <string.h>

int lk_pdq_to_hex(char *out, const lk_pdq_hash *hash)
{
	static const char digits[] = "0123456789abcdef";
	lk__clear_error();
	if (!out || !hash)
		return lk__fail(LK_EINVAL, "lk_pdq_to_hex: NULL argument");
	for (int i = 0; i < LK_PDQ_BYTES; i++) {
		out[2 * i] = digits[hash->bytes[i] >> 4];
		out[2 * i + 1] = digits[hash->bytes[i] & 15];
	}
	out[LK_PDQ_HEX_LEN] = '\0';
	return LK_OK;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lk_pdq_from_hex(lk_pdq_hash *out, const char *hex)
{
	lk__clear_error();
	if (!out || !hex)
		return lk__fail(LK_EINVAL, "lk_pdq_from_hex: NULL argument");
	size_t n = strnlen(hex, LK_PDQ_HEX_LEN + 1);
	if (n != LK_PDQ_HEX_LEN)
		return lk__fail(LK_EINVAL, "a PDQ hash is %d hex digits, got %s%zu", LK_PDQ_HEX_LEN,
				n > LK_PDQ_HEX_LEN ? "more than " : "", n > LK_PDQ_HEX_LEN ? (size_t)LK_PDQ_HEX_LEN : n);
	lk_pdq_hash h;
	for (int i = 0; i < LK_PDQ_BYTES; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return lk__fail(LK_EINVAL, "not a hex digit at position %d of a PDQ hash",
					hi < 0 ? 2 * i + 1 : 2 * i + 2);
		h.bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = h;
	return LK_OK;
}

int lk_pdq_distance(const lk_pdq_hash *a, const lk_pdq_hash *b)
{
	int d = 0;
	for (int i = 0; i < LK_PDQ_BYTES; i++)
		d += __builtin_popcount((unsigned)(a->bytes[i] ^ b->bytes[i]));
	return d;
}

const char *lk_dihedral_name(lk_dihedral d)
{
	static const char *const names[LK_DIHEDRAL_COUNT] = {
		"original", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"
	};
	return (unsigned)d < LK_DIHEDRAL_COUNT ? names[d] : "?";
}
