"""``python -m syncdub_companion`` runs the command line."""
from syncdub_companion.cli import main

main()
