"""Course bookkeeping: exercise checks and progress, the article's claims and verdicts, the
scorecard, the decision tool of notebook 08 and the read-only book."""
