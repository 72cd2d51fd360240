"""One module per ``docbin`` sub-command; :mod:`docbin.cli` registers them."""
