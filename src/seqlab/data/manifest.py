"""Byte sizes of the files each dataset's loader reads, and the digests the registry lacks.

Every figure is that of the verified shared mirror (see each dataset's MANIFEST.md). Sizes are
checked every time a dataset is used (one ``stat`` per file): a file cut short while copying is
caught at once. Digests are checked once per file version (:mod:`seqlab.data.verify`). Where a
file of the mirror is also a download target its digest is in the registry
(:mod:`seqlab.data.registry`); the digests here are those of the mirror's own forms of the
files that are stored differently online (the gzipped Wikipedia parts, the IMDb archive).
"""

#: dataset -> file (inside the dataset folder) -> size in bytes.
FILE_SIZES: dict[str, dict[str, int]] = {
    "enwiki_extract": {
        "enwiki_201505_AA.txt.gz": 37_556_159,
        "enwiki_201505_AB.txt.gz": 37_556_717,
        "enwiki_201505_AC.txt.gz": 37_376_971,
    },
    "kowiki_extract": {
        "kowiki_202209_AA.txt.gz": 36_978_412,
        "kowiki_202209_AB.txt.gz": 37_253_439,
    },
    "google_analogy": {
        "questions-words.txt": 603_955,
    },
    "kor2vec_tests": {
        "kor_analogy_semantic.txt": 14_759,
        "kor_analogy_syntactic.txt": 38_121,
        "kor_ws353.csv": 6_753,
    },
    "kor_analogy_park2018": {
        "word_analogy_korean.txt": 408_970,
        "WS353_korean.csv": 7_378,
    },
    "wordsim353": {
        "combined.tab": 7_433,
    },
    "simlex999": {
        "SimLex-999/SimLex-999.txt": 44_050,
    },
    "men": {
        "MEN/MEN_dataset_natural_form_full": 69_858,
        "MEN/MEN_dataset_lemma_form.dev": 53_807,
        "MEN/MEN_dataset_lemma_form.test": 26_786,
    },
    "rareword": {
        "rw/rw.txt": 92_466,
    },
    "rt_polarity": {
        "rt-polarity.pos": 626_168,
        "rt-polarity.neg": 612_290,
    },
    "sst2": {
        "train.tsv": 3_806_081,
        "dev.tsv": 94_931,
        "test.tsv": 197_335,
    },
    "imdb": {
        "aclImdb_v1_labeled.tar.gz": 28_701_407,
    },
    "multi30k": {
        "task1/raw/train.en.gz": 568_929,
        "task1/raw/train.de.gz": 637_044,
        "task1/raw/val.en.gz": 21_650,
        "task1/raw/val.de.gz": 24_681,
        "task1/raw/test_2016_flickr.en.gz": 21_077,
        "task1/raw/test_2016_flickr.de.gz": 22_890,
    },
    "tatoeba_eng_fra": {
        "fra-eng.zip": 2_951_390,
    },
    "tinyshakespeare": {
        "input.txt": 1_115_394,
    },
    "ptb": {
        "ptb.train.txt": 5_101_618,
        "ptb.valid.txt": 399_782,
        "ptb.test.txt": 449_945,
    },
    "names": {
        "names/Arabic.txt": 13_190,
        "names/Chinese.txt": 1_247,
        "names/Czech.txt": 3_919,
        "names/Dutch.txt": 2_351,
        "names/English.txt": 27_125,
        "names/French.txt": 2_178,
        "names/German.txt": 5_610,
        "names/Greek.txt": 1_981,
        "names/Irish.txt": 1_858,
        "names/Italian.txt": 5_657,
        "names/Japanese.txt": 7_622,
        "names/Korean.txt": 423,
        "names/Polish.txt": 1_165,
        "names/Portuguese.txt": 554,
        "names/Russian.txt": 85_605,
        "names/Scottish.txt": 752,
        "names/Spanish.txt": 2_284,
        "names/Vietnamese.txt": 339,
    },
    "flickr8k": {
        "Flickr8k_text/Flickr8k.token.txt": 3_395_237,
        "Flickr8k_text/Flickr_8k.trainImages.txt": 154_678,
        "Flickr8k_text/Flickr_8k.devImages.txt": 25_801,
        "Flickr8k_text/Flickr_8k.testImages.txt": 25_775,
    },
}

#: dataset -> file -> digest, for the files whose registered download is stored in another form.
MIRROR_CHECKSUMS: dict[str, dict[str, str]] = {
    "enwiki_extract": {
        "enwiki_201505_AA.txt.gz": (
            "sha256:b0f2640d1c609309ecc56e59b8a04d6ca3595581556170dd2d01bc7f87e46f5f"
        ),
        "enwiki_201505_AB.txt.gz": (
            "sha256:2a870f9a9a187e100225616b4381b02f10630fcbc17750a022b923e854cd00c1"
        ),
        "enwiki_201505_AC.txt.gz": (
            "sha256:083aa2a946e3385f03da5547775314492a5f7b51f642cb5fadb87a233b75a33d"
        ),
    },
    "kowiki_extract": {
        "kowiki_202209_AA.txt.gz": (
            "sha256:47b90811f36a7d9cac857ea5cfbb0f5c6f6e09ba5d86ffa6889dd7ecb00fb08f"
        ),
        "kowiki_202209_AB.txt.gz": (
            "sha256:5e0b31ef2605cf255bb3bafe0ae460c505f97804eb068f6879b11bef6111991e"
        ),
    },
    "imdb": {
        "aclImdb_v1_labeled.tar.gz": (
            "sha256:b274e440f4725148ede9b0cf07aaa5a27066025497547e330e73ee57406ab9cb"
        ),
    },
}
