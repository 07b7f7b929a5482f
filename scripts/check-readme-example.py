#!/usr/bin/env python3
"""Fails when README.md's usage example differs from examples/example_step.c
(the file the build compiles and runs), so the README's code cannot rot."""
import sys

readme, example = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
blocks = readme.split("```c\n")[1:]
if not any(b.split("```")[0] == example for b in blocks):
    sys.exit("README.md's ```c block is not a copy of examples/example_step.c")
print("README example == examples/example_step.c")
