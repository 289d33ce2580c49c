"""Build the example extension against the installed rustorch (docs/downstream.md)."""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

import rustorch

# The folder that holds the rustorch package: Cython resolves `rustorch._kernels.capi` there.
SITE = os.path.dirname(os.path.dirname(os.path.abspath(rustorch.__file__)))

ext = Extension(
    "rt_downstream",
    ["rt_downstream.pyx"],
    include_dirs=[rustorch.get_include()],  # rt_math.h for the header-only rt_math.pxd
)
setup(
    ext_modules=cythonize(
        [ext], include_path=[SITE], compiler_directives={"language_level": 3}, quiet=True
    )
)
