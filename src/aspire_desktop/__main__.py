from aspire_desktop.cli import main

raise SystemExit(main())
