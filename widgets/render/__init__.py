"""The one place allowed near Textual's (and textual-plotext's) private API; each use names the upstream code it mirrors."""
