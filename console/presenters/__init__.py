"""Pure functions from domain models to rows, cells, series and statuses: no Textual import."""
