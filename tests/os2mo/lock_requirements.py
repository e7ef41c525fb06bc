"""Print pip requirement lines (`name==version ; marker`) for the "main" group of OS2mo's
poetry.lock, so a venv gets exactly the versions MO's release was tested with.

Usage: python3 lock_requirements.py <path/to/poetry.lock>
"""

import sys
import tomllib

with open(sys.argv[1], "rb") as lock_file:
    lock = tomllib.load(lock_file)

for package in lock["package"]:
    if "main" not in package.get("groups", ["main"]):
        continue
    line = f"{package['name']}=={package['version']}"
    marker = package.get("markers")
    if isinstance(marker, dict):
        marker = marker.get("main")
    if marker:
        line += f" ; {marker}"
    print(line)
