"""EfficientViT (MSRA) checkpoint layouts: official (microsoft/Cream), timm, mmlow.

Official classification checkpoints (``{'model': state_dict}``) name modules as in
EfficientViT/classification/model/efficientvit.py: ``patch_embed.{0,2,4,6}`` (convs between
ReLUs), flat ``blocks1..3`` Sequentials where stages 2 and 3 begin with three downsampling
entries (residual depthwise+FFN pair, PatchMerging, residual pair), ``Conv2d_BN`` children
``c``/``bn``, ``BN_Linear`` head children ``bn``/``l``, and a persistent
``attention_bias_idxs`` buffer (recomputed here, so dropped).
"""
import re
from typing import Dict, Iterable, Optional

from .errors import CheckpointError

LAYOUTS = ('official', 'timm', 'mmlow')

# timm's names for the entries that open official blocks2 / blocks3 before the sandwich blocks
_OFFICIAL_DOWNSAMPLE_ENTRIES = ('res1', 'patchmerge', 'res2')

# timm -> mmlow: residual wrappers (`.m.`) go, parts get their own names
_TIMM_TO_MMLOW = (
    (r'\.downsample\.res1\.0\.m\.', '.downsample.dw_pre.'),
    (r'\.downsample\.res1\.1\.m\.', '.downsample.ffn_pre.'),
    (r'\.downsample\.patchmerge\.', '.downsample.merge.'),
    (r'\.downsample\.res2\.0\.m\.', '.downsample.dw_post.'),
    (r'\.downsample\.res2\.1\.m\.', '.downsample.ffn_post.'),
    (r'\.merge\.conv1\.', '.merge.expand.'),
    (r'\.merge\.conv2\.', '.merge.dw.'),
    (r'\.merge\.conv3\.', '.merge.project.'),
    (r'\.merge\.se\.fc(\d)\.', r'.merge.se.conv\1.conv.'),
    (r'\.mixer\.m\.attn\.', '.attn.'),
    (r'\.attn\.dws\.', '.attn.query_dws.'),
    (r'\.attn\.proj\.1\.', '.attn.proj.'),
    (r'\.m\.', '.'),
    (r'\.pw1\.', '.expand.'),
    (r'\.pw2\.', '.project.'),
    (r'\.bn\.', '.norm.'),
    (r'^stages\.', 'backbone.stages.'),
    (r'^head\.linear\.', 'head.fc.'),
)


def _official_blocks_to_timm(match: re.Match) -> str:
    stage, index = int(match[1]) - 1, int(match[2])
    if stage == 0:
        return f'stages.0.blocks.{index}.'
    if index < len(_OFFICIAL_DOWNSAMPLE_ENTRIES):
        return f'stages.{stage}.downsample.{_OFFICIAL_DOWNSAMPLE_ENTRIES[index]}.'
    return f'stages.{stage}.blocks.{index - len(_OFFICIAL_DOWNSAMPLE_ENTRIES)}.'


def _official_to_timm(key: str) -> str:
    key = re.sub(r'^patch_embed\.(\d)\.', lambda m: f'patch_embed.conv{int(m[1]) // 2 + 1}.', key)
    key = re.sub(r'^blocks(\d)\.(\d+)\.', _official_blocks_to_timm, key)
    key = re.sub(r'^head\.l\.', 'head.linear.', key)
    return re.sub(r'\.c\.', '.conv.', key)


def detect_layout(keys: Iterable[str]) -> Optional[str]:
    keys = set(keys)
    if 'patch_embed.0.c.weight' in keys or any(k.startswith('blocks1.') for k in keys):
        return 'official'
    if 'patch_embed.conv1.conv.weight' in keys:
        return 'timm'
    if ('backbone.stem.0.conv.weight' in keys
            and any(k.endswith('.attn.attention_biases') for k in keys)):
        return 'mmlow'
    return None


def to_mmlow(state_dict: Dict, layout: str) -> Dict:
    if layout == 'mmlow':
        return dict(state_dict)
    if layout == 'official' and any(k.startswith('head_dist.') for k in state_dict):
        raise CheckpointError(
            'this official EfficientViT checkpoint was trained with distillation: its two heads '
            '(head, head_dist) are averaged at test time, which one BN+Linear head cannot '
            'hold. Drop the head_dist.* and head.* keys to convert the backbone alone.')
    out = {}
    for key, value in state_dict.items():
        if key.endswith('attention_bias_idxs'):
            continue
        if layout == 'official':
            key = _official_to_timm(key)
            # the official loader turns 2-D weights into 1x1 conv kernels (model/build.py)
            if value.ndim == 2 and key.endswith('.weight') and not key.startswith('head.'):
                value = value[:, :, None, None]
        key = re.sub(r'^patch_embed\.conv(\d)\.',
                     lambda m: f'backbone.stem.{int(m[1]) - 1}.', key)
        for pattern, repl in _TIMM_TO_MMLOW:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out

