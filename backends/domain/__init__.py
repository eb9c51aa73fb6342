"""The domain: frozen pydantic models, errors and the source protocols every other package speaks."""
