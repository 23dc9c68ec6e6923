import pytest
import torch
import torch.nn as nn

from mmlow.models.layers import conv_from_transposed


@pytest.mark.parametrize('kernel, padding, dilation, bias',
                         [(3, 1, 1, True), (3, 0, 1, False), (5, 2, 1, True), (3, 2, 2, True)])
def test_conv_from_transposed_computes_the_transposed_conv(kernel, padding, dilation, bias):
    torch.manual_seed(0)
    deconv = nn.ConvTranspose2d(6, 10, kernel, 1, padding, dilation=dilation, bias=bias)
    x = torch.randn(2, 6, 9, 7)
    conv = conv_from_transposed(deconv)
    assert isinstance(conv, nn.Conv2d)
    with torch.no_grad():
        expected, got = deconv(x), conv(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize('deconv', [nn.ConvTranspose2d(4, 4, 4, 2, 1),
                                    nn.ConvTranspose2d(4, 4, 3, 1, 1, groups=2),
                                    nn.ConvTranspose2d(4, 4, 3, 1, 3)])
def test_conv_from_transposed_refuses_what_is_not_a_conv(deconv):
    with pytest.raises(ValueError, match='transposed conv|no conv equivalent'):
        conv_from_transposed(deconv)
