/* The likeness program as a user runs it: output format, messages and exit codes. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

Test(cli, hash_prints_reference_line)
{
	const char *img = fx_pdq_image("char1_orig.png");
	char args[2048], want[2048];
	snprintf(args, sizeof args, "hash '%s'", img);
	struct fx_run *r = fx_cli(args);
	cr_assert_eq(r->status, 0, "%s", r->err);
	snprintf(want, sizeof want, "71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c,100,%s\n", img);
	cr_assert_str_eq(r->out, want);
	cr_assert_str_eq(r->err, "");
}

Test(cli, dihedral_prints_eight_hashes)
{
	char args[2048];
	snprintf(args, sizeof args, "hash --dihedral '%s'", fx_pdq_image("char1_orig.png"));
	struct fx_run *r = fx_cli(args);
	cr_assert_eq(r->status, 0);
	int commas = 0;
	for (const char *p = r->out; *p; p++)
		commas += *p == ',';
	cr_assert_eq(commas, 9, "%s", r->out);
	/* rot90 of char1_orig, from the reference vectors */
	cr_assert(strstr(r->out, ",78d3079e87707d0f7c0f85f10ae17a94a75cfa83500fb56a0ea1e50ee15e4a95,"));
}

Test(cli, bad_input_is_reported_and_the_rest_is_done)
{
	const char *bad = fx_write_temp("notes.png", "plain text", 10);
	char args[2048];
	snprintf(args, sizeof args, "hash '%s' '%s' '%s'", fx_pdq_image("char2_orig.png"), bad,
		 fx_pdq_image("char3_orig.png"));
	struct fx_run *r = fx_cli(args);
	cr_assert_eq(r->status, 3, "exit %d", r->status);
	cr_assert(strstr(r->out, "char2_orig.png\n") && strstr(r->out, "char3_orig.png\n"), "%s", r->out);
	cr_assert(strstr(r->err, bad), "%s", r->err);
	cr_assert(strstr(r->err, "not an image"), "%s", r->err);
}

Test(cli, stdin_and_file_lists)
{
	char args[2048];
	snprintf(args, sizeof args, "hash - < '%s'", fx_pdq_image("char1_orig.png"));
	struct fx_run *r = fx_cli(args);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert(strstr(r->out, "71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c,100,-\n"), "%s", r->out);

	char list[4096];
	snprintf(list, sizeof list, "%s\n%s\n", fx_pdq_image("char1_orig.png"), fx_pdq_image("char2_orig.png"));
	const char *path = fx_write_temp("list.txt", list, strlen(list));
	snprintf(args, sizeof args, "hash --files-from '%s'", path);
	r = fx_cli(args);
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_assert(strstr(r->out, "char1_orig.png\n") && strstr(r->out, "char2_orig.png\n"));
}

Test(cli, limits_from_the_command_line)
{
	char args[2048];
	snprintf(args, sizeof args, "hash --max-pixels 1000 '%s'", fx_pdq_image("char1_orig.png"));
	struct fx_run *r = fx_cli(args);
	cr_assert_eq(r->status, 3);
	cr_assert(strstr(r->err, "pixels"), "%s", r->err);
	r = fx_cli("hash --max-pixels lots x.png");
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "--max-pixels"), "%s", r->err);
}

Test(cli, usage_errors_and_help)
{
	struct fx_run *r = fx_cli("");
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "usage: likeness"));
	r = fx_cli("hash");
	cr_assert_eq(r->status, 2);
	r = fx_cli("hash --bogus x.png");
	cr_assert_eq(r->status, 2);
	cr_assert(strstr(r->err, "--bogus"));
	r = fx_cli("frobnicate");
	cr_assert_eq(r->status, 2);
	r = fx_cli("hash --help");
	cr_assert_eq(r->status, 0);
	cr_assert(strstr(r->out, "usage: likeness hash"));
	r = fx_cli("help exit-codes");
	cr_assert_eq(r->status, 0);
	cr_assert(strstr(r->out, "3  at least one input"));
	r = fx_cli("--version");
	cr_assert_eq(r->status, 0);
	cr_assert(strstr(r->out, LK_VERSION_STRING));
}

/* On a CPU without AVX2 the AVX2 build must refuse with a sentence before faiss' start-up code
 * runs, not die of an illegal instruction. The test hook makes this CPU look like one. */
Test(cli, cpu_without_avx2_is_refused_clearly)
{
	if (lk_cpu_check() != LK_OK)
		fx_skip("this CPU really lacks AVX2");
	struct fx_run *r = fx_cli_env("LIKENESS_TEST_NO_AVX2=1", "--version");
	if (r->status == 0 && strstr(r->out, "likeness"))
		fx_skip("this build links the generic faiss, which needs no AVX2");
	cr_assert_eq(r->status, 4, "exit %d: %s", r->status, r->err);
	cr_assert(strstr(r->err, "AVX2"), "%s", r->err);
	cr_assert(strstr(r->err, "LK_FAISS_OPT=generic"), "%s", r->err);
}

/* The program runs with passive OpenMP waiting unless the user chose otherwise: it is read in
 * the running process's environment while it waits on standard input. */
static int environ_has(pid_t pid, const char *entry)
{
	char path[64], buf[65536];
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strcmp(buf + i, entry))
			return 1;
	return 0;
}

static int waits_with(const char *preset, const char *expected)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[1]);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (preset)
			setenv("OMP_WAIT_POLICY", preset, 1);
		else
			unsetenv("OMP_WAIT_POLICY");
		execl(LK_CLI_PATH, "likeness", "hash", "-", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	int found = 0;
	for (int i = 0; i < 200 && !found; i++) { /* up to 10 s on a loaded machine */
		found = environ_has(pid, expected);
		if (!found)
			usleep(50000);
	}
	close(fds[1]); /* empty input: the program exits */
	int st;
	waitpid(pid, &st, 0);
	return found;
}

Test(cli, openmp_waits_passively_unless_told_otherwise)
{
	cr_expect(waits_with(NULL, "OMP_WAIT_POLICY=PASSIVE"));
	cr_expect(waits_with("ACTIVE", "OMP_WAIT_POLICY=ACTIVE"));
}

/* The manual page is generated from the --help texts: every command is in it, and it is
 * valid troff (groff reports no warning when it is available). */
Test(cli, manual_page_from_the_help_texts)
{
	struct fx_run *r = fx_cli("help --man");
	cr_assert_eq(r->status, 0);
	cr_expect(strncmp(r->out, ".TH LIKENESS 1", 14) == 0);
	static const char *const commands[] = { "hash", "compare", "init", "character", "ref", "check",
						"audit", "stats", "import", "export" };
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		char heading[64];
		snprintf(heading, sizeof heading, ".SS %s\n", commands[i]);
		cr_expect(strstr(r->out, heading), "no section for %s", commands[i]);
	}
	cr_expect(strstr(r->out, "usage: likeness audit"));
	if (system("command -v groff >/dev/null 2>&1") == 0) {
		const char *page = fx_write_temp("likeness.1", r->out, strlen(r->out));
		char cmd[600];
		snprintf(cmd, sizeof cmd, "groff -man -Tutf8 -ww -z '%s' 2>&1 | grep -q . && exit 1 || exit 0", page);
		cr_expect_eq(system(cmd), 0, "groff warns about the page");
	}
}
