/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_sshlib.c - cmd/sshlib.h: libssh is loaded at run time and its
 * table is filled; a second load is a no-op; the loaded functions work
 * (a session is made and freed, a missing key file is refused).
 */
#include <criterion/criterion.h>

#include "cmd/sshlib.h"

Test(sshlib, loads_and_fills_the_table)
{
	char err[256] = "";

	cr_assert_eq(vg_sshlib_load(err, sizeof(err)), 0, "%s", err);
	const struct vg_ssh_fns *f = vg_sshlib();
	cr_assert_not_null(f->version);
	cr_assert_not_null(f->channel_open_forward_unix);
	cr_assert_not_null(f->version(0));
	cr_assert_eq(vg_sshlib_load(err, sizeof(err)), 0, "a second load returns at once");
}

Test(sshlib, a_session_is_made_and_a_missing_key_refused)
{
	char err[256] = "";

	cr_assert_eq(vg_sshlib_load(err, sizeof(err)), 0, "%s", err);
	const struct vg_ssh_fns *f = vg_sshlib();
	ssh_session s = f->new_session();
	cr_assert_not_null(s);
	f->set_blocking(s, 0);
	cr_assert_eq(f->options_set(s, SSH_OPTIONS_USER, "core"), 0);
	f->free_session(s);

	ssh_key key = NULL;
	cr_assert_neq(
	    f->pki_import_privkey_file("/nonexistent/vgate-test-key", NULL, NULL, NULL, &key),
	    SSH_OK);
	cr_assert_null(key);
}
