"""Helpers for testing callgym and the envs built on it (see :mod:`callgym.testing.hostile`)."""
