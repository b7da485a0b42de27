"""Tests of mdtheory.multiround."""
