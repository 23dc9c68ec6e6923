# mmdet's 1x schedule with the usual Mask R-CNN optimizer of the efficient hybrid backbones
# (EfficientFormer's: AdamW 2e-4).
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-4, weight_decay=1e-4))
auto_scale_lr = dict(enable=False, base_batch_size=16)
