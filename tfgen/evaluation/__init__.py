"""Evaluation: exact likelihoods, bounds, sample-quality scores."""
