import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    # The demo seeder signs tokens in worker processes; a frozen build needs this first.
    multiprocessing.freeze_support()
    sys.exit(main())
