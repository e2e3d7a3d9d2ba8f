"""Lambdas."""
