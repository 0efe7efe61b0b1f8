"""Small archives made by the tests (shared by the dataset test modules)."""
import hashlib
import io
import tarfile
from pathlib import Path


def make_tar_gz(path: Path, files: dict[str, bytes]) -> Path:
    """Write a .tar.gz holding ``files`` (member name -> content) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
