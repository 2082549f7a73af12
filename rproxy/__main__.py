import sys

from ._entry import console

sys.exit(console())
