"""Features: row-wise transformations shared by training and serving."""
