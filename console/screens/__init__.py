"""One module per screen; the view registry; modals in modals/."""
