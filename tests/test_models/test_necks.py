import pytest
import torch

from mmlow.models import EfficientViTFPN


@pytest.mark.parametrize('add_extra_convs,num_outs', [('on_input', 5), (False, 5), (False, 4)])
def test_efficientvit_fpn_levels(add_extra_convs, num_outs):
    neck = EfficientViTFPN([32, 48, 64], 16, num_outs=num_outs, num_extra_trans_convs=1,
                           add_extra_convs=add_extra_convs).eval()
    # EfficientViT features of a 256x320 image: strides 16, 32, 64
    inputs = (torch.randn(1, 32, 16, 20), torch.randn(1, 48, 8, 10), torch.randn(1, 64, 4, 5))
    outs = neck(inputs)
    assert len(outs) == num_outs
    assert [o.shape[-1] for o in outs] == [40, 20, 10, 5, 3][:num_outs]
    assert all(o.shape[1] == 16 for o in outs)


def test_efficientvit_fpn_finest_level_comes_from_merged_lateral():
    neck = EfficientViTFPN([8, 8, 8], 8, num_outs=4).eval()
    inputs = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4), torch.randn(1, 8, 2, 2)]
    base = neck(inputs)[0]
    inputs[2] = inputs[2] + 1.0  # the coarsest input reaches the finest output top-down
    assert not torch.allclose(base, neck(inputs)[0])


def test_efficientvit_fpn_rejects_bad_trans_count():
    with pytest.raises(ValueError, match='num_extra_trans_convs'):
        EfficientViTFPN([8, 8, 8], 8, num_outs=3, num_extra_trans_convs=3)
