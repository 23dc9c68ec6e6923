# E1 has no attention in its blocks: the joint search + template stage mixes the two only
# through its convolutions.
_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(arch='e1'))
