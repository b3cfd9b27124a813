"""Evaluation: the question set, metrics, the evaluation run and its report."""
