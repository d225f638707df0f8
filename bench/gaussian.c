#include "gaussian.h"

#include <math.h>

double bench_gaussian(unsigned long long *state)
{
	double u[2];
	for (int i = 0; i < 2; i++) {
		*state ^= *state >> 12;
		*state ^= *state << 25;
		*state ^= *state >> 27;
		u[i] = ((double)((*state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
	}
	return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}
