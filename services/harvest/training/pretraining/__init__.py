"""Self-supervised pretraining (`python -m harvest.training --task pretrain`): a backbone trained on every
image of a snapshot without its labels, with SimCLR (contrastive, negatives from the global batch) or DINO
(self-distillation from an EMA teacher with multi-crop).

The result is a model package of kind `backbone` (`runs/<job>/model/`), whose weights carry the key names
of the classifier network minus its head, so `model.pretrained` (or `--init-from`) starts SSL training
from it. Modules: `config` (what to run), `images` (snapshot -> uint8 tensors, no labels needed),
`views` (two-view / multi-crop augmentation), `networks` (backbone + projection heads), `objectives`
(NT-Xent, DINO loss), `engine` (the loop), `probe` (k-NN accuracy), `backbones` (package in/out).
"""
