"""Data layer of the book: the dataset registry, verified downloads, loaders and the text pipeline.

Every chapter after the first trains on data from here; chapters never name a URL or parse a file.

- :mod:`attnbook.data.registry` -- one :class:`RegistryEntry` per file (pinned URL, size, sha256,
  licence; read from the package's ``registry.tsv``) and one :class:`DatasetInfo` per dataset
  (citation, loader, planned chapters; ``datasets.json``); ``datasets_markdown()`` makes the book's
  "Datasets" page, whose "Used in" column is found by searching the notebooks for the loaders.
- :mod:`attnbook.data.download` -- :func:`fetch`: mirror (``ATTNBOOK_DATA_MIRROR``), then cache
  (``ATTNBOOK_CACHE``), then the network; digests checked before use; atomic writes.
- :mod:`attnbook.data.planetoid` -- Cora and Citeseer (chapters "Graph Attention Networks" and
  "Inside a Graph Attention Network").
- :mod:`attnbook.data.text` -- tokenizers, :class:`Vocab`, padding with lengths and masks, document
  batches for the hierarchical attention network.
- :mod:`attnbook.data.corpora` -- Tatoeba Korean-English (chapter "Attention in seq2seq"); MR,
  TREC, SST-2 and surnames (planned for chapter 30, "CNNs for text"); BEEP! Korean comments
  (optional, planned for chapter 23, "Attention for classification").
- :mod:`attnbook.data.imdb` -- the IMDB reviews (planned for chapter 23, "Attention for
  classification").
- ``attnbook.data.synthetic`` -- generated tasks; import it as ``from attnbook.data import synthetic``.
"""

from attnbook.data import text
from attnbook.data.corpora import (
    HateSpeechComment,
    TextClassificationData,
    TranslationPair,
    kfold,
    load_korean_hate_speech,
    load_mr,
    load_names,
    load_sst2,
    load_tatoeba_kor_eng,
    load_trec,
    mr_split,
)
from attnbook.data.download import CACHE_ENV, MIRROR_ENV, cache_dir, fetch, mirror_dir
from attnbook.data.errors import (
    DataError,
    DataIntegrityError,
    DataUnavailableError,
    UnsafePickleError,
)
from attnbook.data.imdb import (
    IMDB_CLASSES,
    Review,
    check_imdb_members,
    load_imdb,
    load_imdb_reviews,
)
from attnbook.data.planetoid import Planetoid, load_planetoid, normalize_features
from attnbook.data.registry import DATASETS, REGISTRY, DatasetInfo, RegistryEntry, datasets_markdown

__all__ = [
    "REGISTRY",
    "DATASETS",
    "RegistryEntry",
    "DatasetInfo",
    "datasets_markdown",
    "fetch",
    "cache_dir",
    "mirror_dir",
    "MIRROR_ENV",
    "CACHE_ENV",
    "DataError",
    "DataIntegrityError",
    "DataUnavailableError",
    "UnsafePickleError",
    "Planetoid",
    "load_planetoid",
    "normalize_features",
    "text",
    "TextClassificationData",
    "TranslationPair",
    "HateSpeechComment",
    "load_mr",
    "mr_split",
    "kfold",
    "load_trec",
    "load_sst2",
    "load_names",
    "load_tatoeba_kor_eng",
    "load_korean_hate_speech",
    "IMDB_CLASSES",
    "Review",
    "load_imdb",
    "load_imdb_reviews",
    "check_imdb_members",
]
