# libadagrad — where `meson install` puts the Python package, and where the
# installed library is relative to it.
# SPDX-License-Identifier: MIT
"""    install_paths.py auto|keep PREFIX LIBDIR MESON_DEFAULT

Prints two lines: the site-packages folder to install into, and the folder
PREFIX/LIBDIR relative to the package's folder in it. With `keep` (the
user set -Dpython.purelibdir) the folder is MESON_DEFAULT. With `auto` it is
MESON_DEFAULT when that is one of the interpreter's site folders, else the
first of them under PREFIX: Debian's interpreter reads
PREFIX/lib/python3.X/dist-packages, and meson's default,
PREFIX/lib/python3/dist-packages, is not on its path (mesonbuild/meson#8739).
"""
import os
import site
import sys

mode, prefix, libdir, default = sys.argv[1:]
target = os.path.normpath(default)
if mode == "auto":
    sites = [os.path.normpath(p) for p in site.getsitepackages()]
    under_prefix = [p for p in sites if p.startswith(os.path.normpath(prefix) + os.sep)]
    if target not in sites and under_prefix:
        target = under_prefix[0]
print(target)
print(os.path.relpath(os.path.join(prefix, libdir), os.path.join(target, "libadagrad")))
