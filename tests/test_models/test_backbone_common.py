"""Behaviour every mmlow backbone shares through StagedBackbone, tested once for all."""
import pytest
import torch

from mmlow.models import EfficientFormer, EfficientFormerV2, EfficientViTMSRA, LowFormer

SMALL_VARIANTS = [(LowFormer, 'b0'), (EfficientViTMSRA, 'm0'), (EfficientFormer, 'l1'),
                  (EfficientFormerV2, 's0')]


@pytest.mark.parametrize('backbone_cls,arch', SMALL_VARIANTS)
@pytest.mark.parametrize('frozen_stages', [0, 2])
def test_frozen_stages_stay_frozen(backbone_cls, arch, frozen_stages):
    backbone = backbone_cls(arch=arch, frozen_stages=frozen_stages)
    backbone.train()
    frozen = [backbone.stem, *backbone.stages[:frozen_stages]]
    trainable = list(backbone.stages[frozen_stages:])
    for module in frozen:
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    for module in trainable:
        assert module.training
        assert all(p.requires_grad for p in module.parameters())
    # a training step must leave frozen BN statistics untouched
    before = backbone.stem[0].norm.running_mean.clone()
    backbone(torch.randn(2, 3, 64, 64))
    assert torch.equal(before, backbone.stem[0].norm.running_mean)
