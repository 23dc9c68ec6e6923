# Mask R-CNN-LowFormer-B1 on the embedded shapes data, trained from scratch. Sizes for 128x128
# images of at most four shapes: far fewer proposals and RoIs than COCO needs, and RoIs spread
# over the pyramid levels as COCO-sized objects are at 800 px (finest_scale 56 * 128 / 800 ~ 14).
# torchvision's RoIAlign computes the same as mmcv's and has a faster CPU backward.
_base_ = [
    '../_base_/models/mask-rcnn_lowformer_b1.py', '../_base_/datasets/shapes_instance.py',
    '../_base_/schedules/shapes_mask-rcnn.py', '../_base_/mmlow.py'
]

roi_extractor = dict(finest_scale=14, roi_layer=dict(use_torchvision=True))
model = dict(
    backbone=dict(init_cfg=None, norm_eval=False, drop_path_rate=0.),
    roi_head=dict(bbox_roi_extractor=roi_extractor, mask_roi_extractor=roi_extractor,
                  bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=20)))
