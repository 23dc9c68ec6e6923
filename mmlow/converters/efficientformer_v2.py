"""EfficientFormerV2 checkpoint layouts: official (snap-research/EfficientFormer), timm, mmlow."""
import re
from typing import Dict, Iterable, Optional

from .efficientformer import detect_version_layout

LAYOUTS = ('official', 'timm', 'mmlow')

_OFFICIAL_STEM = {'0': 'conv1.conv', '1': 'conv1.bn', '3': 'conv2.conv', '4': 'conv2.bn'}

# official -> timm inside a stage list entry (block or downsample); nn.Sequential indices
# become conv/bn names (an output projection's index 0 is its activation)
_CONV_BN = ('conv', 'bn')
_OFFICIAL_TO_TIMM = (
    (r'\.(q|k|v|v_local|stride_conv|q\.proj)\.([01])\.',
     lambda m: f'.{m[1]}.{_CONV_BN[int(m[2])]}.'),
    (r'\.q\.local\.0\.', '.q.local.'),
    (r'\.proj\.([12])\.', lambda m: f'.proj.{_CONV_BN[int(m[1]) - 1]}.'),
    (r'\.mlp\.(fc1|fc2|mid)\.', r'.mlp.\1.conv.'),
    (r'\.mlp\.norm(\d)\.', r'.mlp.fc\1.bn.'),
    (r'\.mlp\.mid_norm\.', '.mlp.mid.bn.'),
    (r'\.layer_scale_(\d)$', r'.ls\1.gamma'),
    (r'^dist_head\.', 'head_dist.'),
)

_TIMM_TO_MMLOW = (
    (r'^stem\.conv(\d)\.conv\.', lambda m: f'stem.{int(m.group(1)) - 1}.conv.'),
    (r'^stem\.conv(\d)\.bn\.', lambda m: f'stem.{int(m.group(1)) - 1}.norm.'),
    (r'\.bn\.', '.norm.'),
    (r'\.token_mixer\.', '.attn.'),
    (r'\.attention_biases$', '.pos_bias.table'),
    (r'\.ls(\d)\.gamma$', r'.ls\1.weight'),
    (r'^(stem|stages)\.', r'backbone.\1.'),
    (r'^norm\.', 'head.norm.'),
    (r'^head_dist\.', 'head.fc_dist.'),
    (r'^head\.(weight|bias)$', r'head.fc.\1'),
)


def detect_layout(keys: Iterable[str]) -> Optional[str]:
    return detect_version_layout(keys, 2)


def _official_to_timm(key: str, value):
    match = re.match(r'patch_embed\.(\d)\.(.*)', key)
    if match:
        return f'stem.{_OFFICIAL_STEM[match.group(1)]}.{match.group(2)}', value
    match = re.match(r'network\.(\d+)\.(.*)', key)
    if match:
        index, rest = int(match.group(1)), match.group(2)
        # the official network list interleaves stages (even) and downsamples (odd); a
        # downsample's conv-BN is proj/norm, or conv/bn beside an attention
        if index % 2:
            rest = re.sub(r'^(proj|conv)\.', 'conv.conv.', rest)
            rest = re.sub(r'^(norm|bn)\.', 'conv.bn.', rest)
            key = f'stages.{(index + 1) // 2}.downsample.{rest}'
        else:
            key = f'stages.{index // 2}.blocks.{rest}'
    for pattern, repl in _OFFICIAL_TO_TIMM:
        key = re.sub(pattern, repl, key)
    if re.search(r'\.ls\d\.gamma$', key):
        value = value.reshape(-1)  # official layer scales are (C, 1, 1)
    return key, value


def to_mmlow(state_dict: Dict, layout: str) -> Dict:
    if layout == 'mmlow':
        return dict(state_dict)
    if layout == 'official':
        state_dict = dict(_official_to_timm(k, v) for k, v in state_dict.items())
    # a downsample without attention is a bare conv-norm unit in mmlow
    attn_downsamples = {m.group(1) for m in (re.match(r'stages\.(\d+)\.downsample\.attn\.', k)
                                             for k in state_dict) if m}
    out = {}
    for key, value in state_dict.items():
        if key.endswith('attention_bias_idxs'):
            continue  # derived from the grid size, rebuilt by the model
        match = re.match(r'stages\.(\d+)\.downsample\.conv\.(conv|bn)\.(.*)', key)
        if match and match.group(1) not in attn_downsamples:
            key = f'stages.{match.group(1)}.downsample.{match.group(2)}.{match.group(3)}'
        for pattern, repl in _TIMM_TO_MMLOW:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out

