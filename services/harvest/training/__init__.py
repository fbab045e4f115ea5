"""The training job (`python -m harvest.training`): semi-supervised DDP training from a dataset snapshot.

It imports no service: it reads a snapshot manifest and images from the object store and writes its run
(`runs/<job>/metrics.jsonl`, checkpoints, the model package) back through `harvest.common`.
"""
