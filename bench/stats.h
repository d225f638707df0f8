/* Timing helpers for the bench programs: wall and CPU clocks, medians. */
#ifndef LK_BENCH_STATS_H
#define LK_BENCH_STATS_H

double bench_wall_s(void);
double bench_cpu_s(void); /* CPU time of the whole process, all threads */
/* Median of n values (sorts a copy). */
double bench_median(const double *v, int n);
/* The value at fraction p (0..1) of the sorted values, nearest rank. */
double bench_percentile(const double *v, int n, double p);
double bench_min(const double *v, int n);
double bench_max(const double *v, int n);
/* "Intel(R) Xeon(R) ..., 2 cores" into buf. */
void bench_machine(char *buf, int size);

#endif
