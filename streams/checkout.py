"""Where the project's own data lies: the checkout the package runs from, wherever the
command itself runs.

``seeds/`` (the demo's articles) and ``tests/annotated/`` (the annotated set) lie in the
checkout, ``shared/data/`` (newsdev, PolNeAR dev) beside it. An installed copy of the package
has none of them: the commands that read them take an explicit option and say in one line
what is missing.
"""

from __future__ import annotations

from pathlib import Path

#: the checkout the package runs from (``pip install -e .``)
CHECKOUT = Path(__file__).resolve().parents[1]
SEEDS = CHECKOUT / "seeds"
ANNOTATED = CHECKOUT / "tests" / "annotated"
SHARED_DATA = CHECKOUT.parent / "shared" / "data"
