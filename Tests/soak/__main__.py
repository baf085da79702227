import sys

from Tests.__main__ import run_inside_venv

run_inside_venv("Tests.soak", sys.argv[1:])  # on a fresh clone, or under a python without the test packages

from Tests.soak.soak import main  # noqa: E402 - importable only inside .venv

sys.exit(main(sys.argv[1:]))
