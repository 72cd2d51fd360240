"""docbin.service: the FastAPI app serving the method registry over HTTP."""
