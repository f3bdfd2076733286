"""seqlab: learning from sequences with recurrent networks and word embeddings.

The package reads in the order the data flows:

- ``seqlab.data``        named public datasets: registry, verified downloads, loaders
- ``seqlab.text``        tokenizers, vocabularies, one-hot / index encodings, batching
- ``seqlab.nn``          RNN, LSTM and GRU from their equations, with hand-written BPTT
- ``seqlab.embeddings``  word vectors: training (word2vec, fastText, GloVe) and querying
- ``seqlab.lab``         the lecture's claims as runnable, plotted experiments
- ``seqlab.cli``         the ``seqlab`` command
"""

__version__ = "0.1.0"
