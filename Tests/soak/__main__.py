import sys

from Tests.soak.soak import main

sys.exit(main(sys.argv[1:]))
