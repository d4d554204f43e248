"""``python -m bench``: the same as ``bench/run`` once set up."""

import sys

from bench.main import main

sys.exit(main())
