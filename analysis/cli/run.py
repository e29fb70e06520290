"""``python -m analysis.cli.run`` runs the ``desist`` command (same as the console script)."""

from analysis.cli import main

if __name__ == "__main__":
    main()
