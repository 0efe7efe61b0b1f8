"""Where the course's folders are (standard library only, so that any Python can import it)."""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_COURSE = PACKAGE_DIR / "course"
LEARNER_DIR = REPO_ROOT / "notebooks" / "09_exercises"
EXAMPLES_DIR = PACKAGE_DIR / "examples"
