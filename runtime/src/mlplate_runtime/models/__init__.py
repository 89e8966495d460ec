"""Models: training, evaluation, and the registry with its promotion gate."""
