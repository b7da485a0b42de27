"""Tests of mdtheory.models."""
