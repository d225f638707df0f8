/* likeness audit: a gallery in, one JSON line per image out; resumable after a crash or Ctrl-C. */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <sys/stat.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static char env[512], gallery[400];

/* Registry with char1, char2; a gallery of copies and unrelated images. */
static void setup(void)
{
	char reg[300], args[900];
	snprintf(reg, sizeof reg, "%s/reg", fx_temp_dir());
	snprintf(env, sizeof env, "LIKENESS_REGISTRY='%s'", reg);
	snprintf(args, sizeof args, "init '%s'", reg);
	cr_assert_eq(fx_cli(args)->status, 0);
	fx_cli_env(env, "character add char1 --name One");
	fx_cli_env(env, "character add char2 --name Two");
	snprintf(args, sizeof args, "ref add char1 '%s'", fx_pdq_image("char1_orig.png"));
	cr_assert_eq(fx_cli_env(env, args)->status, 0);
	snprintf(args, sizeof args, "ref add char2 '%s'", fx_pdq_image("char2_orig.png"));
	cr_assert_eq(fx_cli_env(env, args)->status, 0);
	snprintf(gallery, sizeof gallery, "%s", fx_temp_dir());
	static const char *const files[] = { "char1_jpeg50.jpg", "char1_blur.png", "char2_flipy.png",
					     "char3_orig.png", "char7_1024x640.png", "noise_200x150_grey.png" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "mkdir -p '%s/sub' && cp '%s' '%s/%s%s'", gallery, fx_pdq_image(files[i]),
			 gallery, i % 2 ? "sub/" : "", files[i]);
		cr_assert_eq(system(cmd), 0);
	}
	cr_assert_eq(system((snprintf(args, sizeof args, "echo 'not an image' > '%s/notes.png'", gallery), args)), 0);
}

TestSuite(cli_audit, .init = setup);

/* Parses JSON lines; returns how many, and counts verdicts and errors. */
static int parse_lines(const char *text, int *blocked, int *errors)
{
	int n = 0;
	*blocked = *errors = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		cr_assert(nl, "last line without newline");
		json_error_t err;
		json_t *obj = json_loadb(p, (size_t)(nl - p), 0, &err);
		cr_assert(obj, "not JSON: %.*s (%s)", (int)(nl - p), p, err.text);
		cr_assert(json_string_value(json_object_get(obj, "path")));
		const char *v = json_string_value(json_object_get(obj, "verdict"));
		*blocked += v && !strcmp(v, "block");
		*errors += json_object_get(obj, "error") != NULL;
		json_decref(obj);
		n++;
		p = nl + 1;
	}
	return n;
}

/* Complete lines in a file that may not exist yet (0) or be mid-write. */
static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0, c;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

Test(cli_audit, folder_to_json_lines)
{
	char args[600];
	snprintf(args, sizeof args, "audit -j 2 '%s'", gallery);
	struct fx_run *r = fx_cli_env(env, args);
	cr_expect_eq(r->status, 1, "blocked images -> 1 (%s)", r->err);
	int blocked, errors;
	cr_expect_eq(parse_lines(r->out, &blocked, &errors), 7);
	cr_expect_eq(blocked, 3);
	cr_expect_eq(errors, 1);
	cr_expect(strstr(r->err, "7 image(s)") && strstr(r->err, "3 blocked"), "%s", r->err);
	cr_expect(!strstr(r->err, "\r"), "progress shown although stderr is not a terminal");
}

Test(cli_audit, list_from_stdin_and_resume_after_a_cut_line)
{
	char out[500], args[1200];
	snprintf(out, sizeof out, "%s/audit.jsonl", fx_temp_dir());
	snprintf(args, sizeof args, "audit -j 1 -o '%s' '%s'", out, gallery);
	cr_assert_eq(fx_cli_env(env, args)->status, 1);

	/* Keep 3 complete lines and half of the 4th, as a killed run would leave. */
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "head -3 '%s' > '%s.t' && sed -n 4p '%s' | head -c 40 >> '%s.t' && mv '%s.t' '%s'",
		 out, out, out, out, out, out);
	cr_assert_eq(system(cmd), 0);
	snprintf(args, sizeof args, "audit --resume -o '%s' '%s'", out, gallery);
	struct fx_run *r = fx_cli_env(env, args);
	cr_expect(strstr(r->err, "3 image(s) already audited, 4 to go"), "%s", r->err);
	size_t len;
	char *text = (char *)fx_read(out, &len);
	text[len] = '\0';
	int blocked, errors;
	cr_expect_eq(parse_lines(text, &blocked, &errors), 7, "%s", text);
	cr_expect_eq(blocked, 3);
	free(text);

	/* Paths from standard input. */
	snprintf(args, sizeof args, "audit --files-from - < '%s'", fx_write_temp("list.txt", "", 0));
	r = fx_cli_env(env, args);
	cr_expect_eq(r->status, 0, "empty list: %s", r->err);
	char list[1200];
	snprintf(list, sizeof list, "%s/char1_jpeg50.jpg\n%s/sub/char1_blur.png\n", gallery, gallery);
	snprintf(args, sizeof args, "audit --files-from - < '%s'", fx_write_temp("list2.txt", list, strlen(list)));
	r = fx_cli_env(env, args);
	cr_expect_eq(r->status, 1);
	cr_expect_eq(parse_lines(r->out, &blocked, &errors), 2);
}

/* Ctrl-C: in-flight images finish, the output stays whole, and --resume completes the run.
 * The fifth path is a named pipe, so the audit is held mid-gallery for as long as the test
 * needs, however fast or slow the machine: the interrupt arrives while that image is being
 * read, then the test feeds it an image. */
Test(cli_audit, interrupt_then_resume, .timeout = 120)
{
	enum { IMAGES = 150, HELD = 5 };
	char dir[400], list[500], pipe_path[500], out[500];
	snprintf(dir, sizeof dir, "%s", fx_temp_dir());
	snprintf(list, sizeof list, "%s/list.txt", dir);
	snprintf(pipe_path, sizeof pipe_path, "%s/img%d.jpg", dir, HELD);
	snprintf(out, sizeof out, "%s/big.jsonl", dir);
	cr_assert_eq(mkfifo(pipe_path, 0600), 0);
	FILE *f = fopen(list, "w");
	cr_assert(f);
	for (int i = 1; i <= IMAGES; i++) {
		char path[500];
		snprintf(path, sizeof path, "%s/img%d.jpg", dir, i);
		if (i != HELD)
			cr_assert_eq(symlink(fx_pdq_image("bench_b0000_1024.jpg"), path), 0);
		fprintf(f, "%s\n", path);
	}
	cr_assert_eq(fclose(f), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char e[600];
		snprintf(e, sizeof e, "%s", env + strlen("LIKENESS_REGISTRY='"));
		e[strlen(e) - 1] = '\0';
		setenv("LIKENESS_REGISTRY", e, 1);
		int devnull = open("/dev/null", 1);
		dup2(devnull, 2);
		/* PDQ alone: this is about stopping and resuming, and 150 CNN passes under the
		 * sanitizers take minutes. One thread: the paths are audited in the list's order. */
		execl(LK_CLI_PATH, "likeness", "audit", "--hash-only", "-j", "1", "-o", out, "--files-from", list,
		      (char *)NULL);
		_exit(127);
	}
	/* The images before the pipe are written; the audit now waits in the pipe's open(). */
	int lines = 0;
	for (int waited = 0; waited < 9000 && lines < HELD - 1; waited++) {
		lines = count_lines(out);
		if (lines < HELD - 1)
			usleep(10000);
	}
	cr_assert_eq(lines, HELD - 1, "the audit wrote %d lines before the pipe, expected %d", lines, HELD - 1);
	kill(pid, SIGINT);
	/* The image in flight is finished: give it its bytes. */
	int fd = open(pipe_path, O_WRONLY);
	cr_assert_geq(fd, 0);
	size_t len;
	int blocked, errors;
	unsigned char *image = fx_read(fx_pdq_image("bench_b0000_1024.jpg"), &len);
	cr_assert_eq(write(fd, image, len), (ssize_t)len);
	free(image);
	close(fd);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st));
	cr_expect_eq(WEXITSTATUS(st), 130, "an interrupted audit exits 130");
	char *text = (char *)fx_read(out, &len);
	text[len] = '\0';
	cr_expect_eq(parse_lines(text, &blocked, &errors), HELD, "%s", text);
	cr_expect_eq(errors, 0, "the image read during the interrupt was recorded as a failure: %s", text);
	free(text);

	cr_assert_eq(unlink(pipe_path), 0); /* --resume must not open it again */
	char args[1200];
	snprintf(args, sizeof args, "audit --hash-only --resume -o '%s' --files-from '%s'", out, list);
	struct fx_run *r = fx_cli_env(env, args);
	cr_expect_eq(r->status, 0, "%s", r->err);
	text = (char *)fx_read(out, &len);
	text[len] = '\0';
	cr_expect_eq(parse_lines(text, &blocked, &errors), IMAGES);
	cr_expect_eq(errors, 0, "%s", text);
	free(text);
}

/* On a terminal (a pseudo-terminal from script(1)) the progress line is drawn and ends at 100%. */
Test(cli_audit, progress_line_on_a_terminal)
{
	if (system("command -v script >/dev/null 2>&1") != 0)
		fx_skip("no script(1) to make a pseudo-terminal");
	char out[500], cmd[2400];
	snprintf(out, sizeof out, "%s/tty.txt", fx_temp_dir());
	snprintf(cmd, sizeof cmd, "%s script -qec \"'%s' audit -o /dev/null '%s'\" /dev/null > '%s' 2>&1", env,
		 LK_CLI_PATH, gallery, out);
	cr_assert_neq(system(cmd), -1);
	size_t len;
	char *text = (char *)fx_read(out, &len);
	text[len] = '\0';
	cr_expect(strstr(text, "\r\033[Kaudited 7/7 (100%)"), "no progress line on a terminal: %s", text);
	free(text);
}
