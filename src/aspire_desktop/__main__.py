from aspire_desktop.cli import main

# Guarded: the document host process (multiprocessing, "spawn") imports this module.
if __name__ == "__main__":
    raise SystemExit(main())
