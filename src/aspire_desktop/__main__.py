import multiprocessing

from aspire_desktop.cli import main

# Guarded: the document host process (multiprocessing, "spawn") imports this module.
if __name__ == "__main__":
    # A frozen build starts its child processes by running itself again: this runs the
    # child's work instead of the app (and does nothing when not frozen).
    multiprocessing.freeze_support()
    raise SystemExit(main())
