"""``python -m genlab`` runs the command line."""

from genlab.cli import entry

if __name__ == "__main__":
    entry()
