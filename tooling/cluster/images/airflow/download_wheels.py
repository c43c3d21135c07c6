"""Downloads the Airflow image's wheels with the image's own Python, under the project's constraints.

Debian 12's Python is 3.11.2; a few pinned versions need a newer 3.11 (soupsieve 4.1.3 asks for 3.11.5).
Such a pin is dropped and pip takes the newest version that installs on 3.11.2; every dropped pin is
printed, so the gap between the image and the tests' interpreter is on record.
"""

import re
import subprocess
import sys
from pathlib import Path

CONFLICT = re.compile(r"The user requested \(constraint\) ([A-Za-z0-9_.-]+)==")


def main(wheels: str, requirements: str, constraints: str) -> int:
    pins = Path(constraints).read_text().splitlines()
    image_constraints = Path(constraints).with_name("constraints-image.txt")
    for _ in range(10):
        image_constraints.write_text("\n".join(pins) + "\n")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "-d",
                wheels,
                "-r",
                requirements,
                "-c",
                str(image_constraints),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            return 0
        conflict = CONFLICT.search(done.stderr + done.stdout)
        if conflict is None:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        name = conflict.group(1).lower()
        pins = [pin for pin in pins if not pin.lower().startswith(f"{name}==")]
        print(
            f"download-wheels: {name} unpinned: its pinned version needs a newer Python than the image's",
            file=sys.stderr,
        )
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
