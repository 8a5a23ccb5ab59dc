"""unitgym: unit conversion through function calls (a callgym plugin).

Importing this package registers ``unitgym/Units-v0``; callgym imports it through the
``callgym.envs`` entry point declared in pyproject.toml.
"""

from callgym.envs import register

register("unitgym/Units-v0", "unitgym.env:UnitsEnv")
