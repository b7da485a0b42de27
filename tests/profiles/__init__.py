"""Tests of mdtheory.profiles."""
