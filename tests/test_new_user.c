/* What a new user tried (issue 16, "Tried as a new user would"): the demo's four characters
 * registered with one picture each, then the robot drawn at 200 pixels into a 512-pixel
 * photograph, and each character turned by 5 degrees on white, checked with the likeness
 * program end to end (decode, PDQ, CNN, the default negative bank, the character model). */
#include "fixtures.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>

static const char *const names[4] = { "bolt", "drift", "sunny", "whiskers" };
static char env[600], dir[400];

static void save(VipsImage *img, const char *name)
{
	char path[500];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_eq(vips_pngsave(img, path, NULL), 0, "%s: %s", path, vips_error_buffer());
}

static VipsImage *on_white(const char *name)
{
	char svg[500];
	snprintf(svg, sizeof svg, "%s/demo/characters/%s.svg", LK_SOURCE_DIR, name);
	VipsImage *img, *flat;
	cr_assert_eq(vips_thumbnail(svg, &img, 512, NULL), 0, "%s", vips_error_buffer());
	VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
	cr_assert_eq(vips_flatten(img, &flat, "background", white, NULL), 0);
	vips_area_unref(VIPS_AREA(white));
	g_object_unref(img);
	return flat;
}

static void setup(void)
{
	if (!LK_MODELS_DIR[0])
		fx_skip("no models (scripts/fetch-models.sh was not run for this build)");
	cr_assert_eq(VIPS_INIT("test_new_user"), 0);
	snprintf(dir, sizeof dir, "%s", fx_temp_dir());
	snprintf(env, sizeof env, "LIKENESS_REGISTRY='%s/reg'", dir);
	char args[700];
	snprintf(args, sizeof args, "init '%s/reg'", dir);
	cr_assert_eq(fx_cli(args)->status, 0);
	for (int i = 0; i < 4; i++) {
		VipsImage *img = on_white(names[i]);
		char file[64];
		snprintf(file, sizeof file, "%s.png", names[i]);
		save(img, file);
		/* Turned by 5 degrees on a white canvas. */
		VipsImage *turned;
		VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
		cr_assert_eq(vips_similarity(img, &turned, "angle", 5.0, "background", white, NULL), 0);
		vips_area_unref(VIPS_AREA(white));
		snprintf(file, sizeof file, "%s-turned.png", names[i]);
		save(turned, file);
		g_object_unref(turned);
		g_object_unref(img);
		snprintf(args, sizeof args, "character add %s --name %s", names[i], names[i]);
		cr_assert_eq(fx_cli_env(env, args)->status, 0);
		snprintf(args, sizeof args, "ref add %s '%s/%s.png'", names[i], dir, names[i]);
		struct fx_run *r = fx_cli_env(env, args);
		cr_assert_eq(r->status, 0, "%s", r->err);
	}
	/* The robot at 200 pixels inside a 512-pixel photograph. */
	VipsImage *photo, *robot, *small, *scene;
	cr_assert_eq(vips_thumbnail(fx_pdq_image("bench_b0000_1024.jpg"), &photo, 512, NULL), 0);
	robot = on_white("bolt");
	cr_assert_eq(vips_resize(robot, &small, 200.0 / robot->Xsize, NULL), 0);
	cr_assert_eq(vips_insert(photo, small, &scene, 150, 160, NULL), 0);
	save(scene, "robot-in-photo.png");
	g_object_unref(scene), g_object_unref(small), g_object_unref(robot), g_object_unref(photo);
}

TestSuite(new_user, .init = setup, .timeout = 240);

static json_t *check(const char *options, const char *file)
{
	char args[700];
	snprintf(args, sizeof args, "check --json %s '%s/%s'", options, dir, file);
	struct fx_run *r = fx_cli_env(env, args);
	cr_assert(r->status == 0 || r->status == 1 || r->status == 5, "%s: %s", file, r->err);
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);
	cr_assert(j, "%s: %s", e.text, r->out);
	return j;
}

Test(new_user, the_robot_in_a_photograph_is_found_by_region_search)
{
	json_t *plain = check("", "robot-in-photo.png");
	cr_expect_str_eq(json_string_value(json_object_get(plain, "verdict")), "allow",
			 "a fifth of the picture: the whole-picture signals do not see it (yet)");
	json_t *regions = check("--regions 9", "robot-in-photo.png");
	cr_expect_str_eq(json_string_value(json_object_get(regions, "verdict")), "block", "%s",
			 json_string_value(json_object_get(regions, "reason")));
	json_t *match = json_array_get(json_object_get(regions, "matches"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(match, "character")), "bolt");
	json_decref(plain);
	json_decref(regions);
}

Test(new_user, characters_turned_by_five_degrees_are_named_and_mostly_flagged)
{
	int flagged = 0;
	for (int i = 0; i < 4; i++) {
		char file[64];
		snprintf(file, sizeof file, "%s-turned.png", names[i]);
		json_t *j = check("", file);
		json_t *ch = json_object_get(j, "character");
		cr_assert(json_is_object(ch), "%s: no character decision", file);
		cr_expect_str_eq(json_string_value(json_object_get(ch, "character")), names[i],
				 "the character model names the right one");
		flagged += strcmp(json_string_value(json_object_get(j, "verdict")), "allow") != 0;
		json_decref(j);
	}
	/* Before the character model 2 of the 4 were flagged; with it, 3 (the robot's score stays
	 * just below the threshold). */
	cr_expect_geq(flagged, 3, "only %d of 4 turned characters flagged", flagged);
}
