"""Where resources are found: the clouds' own org-wide inventory engines, with the per-scope walk as fallback."""
