# The short name the README and the demo have used since the start: an alias of
# retinanet_lowformer_b1_fpn_1x_coco.py.
_base_ = './retinanet_lowformer_b1_fpn_1x_coco.py'
