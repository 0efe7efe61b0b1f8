"""Course datasets. Every loader follows the data contract (details and licences: data/README.md).

Archives are looked up in ``$COURSE_DATA_DIR``, then ``data/cache/``, then the Keras cache, and only
then downloaded from their canonical source (``keras.utils.get_file`` with a sha256 checksum).
The other datasets come with pip packages, or are generated.

    from course_utils.datasets import load_imdb, load_tang_poems, load_shakespeare, load_weather, load_stock, load_glove
    (x_train, y_train), (x_test, y_test) = load_imdb()
"""
from course_utils.datasets._store import CorruptDatasetError, DatasetError, DatasetNotFoundError
from course_utils.datasets.glove import GloVe, load_glove
from course_utils.datasets.imdb import load_imdb
from course_utils.datasets.poems import Poem, load_tang_poems
from course_utils.datasets.shakespeare import load_shakespeare
from course_utils.datasets.sine import sine_wave
from course_utils.datasets.stocks import load_stock
from course_utils.datasets.weather import load_weather
from course_utils.datasets.windows import Standardizer, chronological_split, create_dataset

__all__ = [
    "load_imdb", "load_tang_poems", "Poem", "load_shakespeare", "load_weather", "load_stock", "load_glove", "GloVe",
    "sine_wave", "create_dataset", "chronological_split", "Standardizer",
    "DatasetError", "DatasetNotFoundError", "CorruptDatasetError",
]
