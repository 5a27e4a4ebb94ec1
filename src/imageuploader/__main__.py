"""`python -m imageuploader` runs the command line."""

from imageuploader.cli import main

raise SystemExit(main())
