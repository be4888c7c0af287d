import sys

from aspire_desktop.cli import main

# Guarded: the document host process (multiprocessing, "spawn") imports this module.
if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # A frozen build starts its child processes by running itself again: this runs
        # the child's work instead of the app. (Not imported otherwise: start-up time.)
        import multiprocessing

        multiprocessing.freeze_support()
    raise SystemExit(main())
