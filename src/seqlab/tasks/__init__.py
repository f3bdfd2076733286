"""Tasks built on the layers and the training loop: data pipeline, model, CLI-ready functions.

- `seqlab.tasks.classify`: many-to-one classification (sentiment, a name's language).
- `seqlab.tasks.explain`: which tokens pushed a prediction (gradient × input).
- `seqlab.tasks.lm`: language models trained with truncated BPTT (`lm_data`: token streams,
  `lm_run`: the train and eval runs).
- `seqlab.tasks.sampling`: temperature, top-k, top-p and greedy choice of the next token.
- `seqlab.tasks.generate`: one-to-many, a name from its language (`generate_eval`: the run, the
  judge classifier, agreement).
- `seqlab.tasks.caption`: one-to-many, a caption of a picture (CNN + LSTM, optional attention;
  `caption_eval`: data, BLEU, pictures).
- `seqlab.tasks.beam`: batched greedy and beam search over any one-token decoder step.
- `seqlab.tasks.translate`: many-to-many with a delay, an encoder-decoder with attention
  (`translate_data`: pairs and sentencepiece codecs, `translate_run`: the runs and BLEU,
  `translate_plot`: the attention heatmap).
- `seqlab.tasks.model_dir`: a trained model as a directory (safetensors + JSON + vocabulary).
"""
