"""Builds docs/examples/cfilter (the C template of docs/processing.md) the
way a team does, outside this project's build: a copy in a temporary folder,
`meson setup` and `ninja` against the installed GStreamer headers only
(PKG_CONFIG_PATH unset), warnings as errors. Shared by tests/examples
(c_template) and tests/docs (the launch lines with myfilter)."""

import os
import shutil
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(TOP, "docs", "examples", "cfilter")


def build_template(tmp):
    """Returns the folder holding libgstmyfilter.so (put it on
    GST_PLUGIN_PATH). Raises AssertionError with meson's or ninja's
    output when the build fails."""
    src = os.path.join(tmp, "myfilter")
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(TEMPLATE, src)
    env = dict(os.environ)
    for k in ("PKG_CONFIG_PATH", "CFLAGS", "LDFLAGS"):
        env.pop(k, None)
    build = os.path.join(src, "build")
    for cmd in (["meson", "setup", build, "-Dwerror=true"], ["ninja", "-C", build]):
        out = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True,
                             timeout=300)
        if out.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), out.returncode,
                                                            out.stdout[-3000:], out.stderr[-3000:]))
    if not os.path.exists(os.path.join(build, "libgstmyfilter.so")):
        raise AssertionError("the build made no libgstmyfilter.so")
    return build
