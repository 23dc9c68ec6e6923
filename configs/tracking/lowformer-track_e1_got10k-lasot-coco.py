# E1 has no attention in its blocks: the joint search + template stage mixes the two only
# through its convolutions, near the seam of the joint map (README, "Tracking": one stream).
_base_ = ['./lowformer-track_b15_got10k-lasot-coco.py']
model = dict(backbone=dict(arch='e1',
                           init_cfg=dict(checkpoint='checkpoints/lowformer_e1_in1k.pth')))
