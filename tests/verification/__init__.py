"""Tests of mdtheory.verification."""
