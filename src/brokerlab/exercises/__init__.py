"""One checker module per exercise; each runs the learner's code against the live broker."""
