from wsdash.cli import main

raise SystemExit(main())
