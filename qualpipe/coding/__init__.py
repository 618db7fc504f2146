"""Coding segments against a codebook: zero-shot, learned from an evaluator's codes, and evaluated."""
