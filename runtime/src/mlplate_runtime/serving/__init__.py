"""Serving: a FastAPI app answering with the champion model (canary and shadow optional)."""

import os

# Requests are scored from many threads at once, each on a tiny batch: one native thread per
# call avoids OpenMP/BLAS oversubscription (an order of magnitude slower on small machines).
# Set before numpy and scikit-learn load their runtimes; an explicit setting wins.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
