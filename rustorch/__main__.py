import sys

from rustorch.cli import main

sys.exit(main())
