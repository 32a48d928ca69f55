"""`stridebeat serve`: the phone page and its HTTP JSON API, a skin over the public Python API."""
