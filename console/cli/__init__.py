"""The command line: argument parser, --once report, and the audit, export and bench subcommands."""
