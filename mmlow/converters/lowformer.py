"""LowFormer checkpoint layouts: official (altair199797/LowFormer), timm, mmlow."""
import re
from typing import Dict, Iterable, Optional

LAYOUTS = ('official', 'timm', 'mmlow')

# official -> timm: OpSequential wrappers, the block's `total` pair, the head's op_list
_OFFICIAL_TO_TIMM = (
    ('backbone.input_stem.', 'stem.'),
    ('backbone.stages.', 'stages.'),
    ('head.opseq.', 'head.'),
    ('head.op_list.0.', 'in_conv.'),
    ('head.op_list.2.linear.', 'pre_classifier.0.'),
    ('head.op_list.2.norm.', 'pre_classifier.1.'),
    ('head.op_list.3.linear.', 'classifier.'),
    ('.op_list.', '.'),
    ('.total.0.0.', '.attn.'),
    ('.total.0.1.', '.mlp.'),
    ('.total.0.', '.attn.'),
    ('.total.1.', '.local.'),
    ('.conv_proj.0.', '.conv_proj.conv.'),
    ('.conv_proj.1.', '.conv_proj.norm.'),
    ('.pwise.0.', '.pwise.'),
)

# timm -> mmlow: residual wrappers (`.main.`) go, attention/MLP parts get their own names
_TIMM_TO_MMLOW = (
    (r'\.attn\.main\.(?:1\.)?conv_proj\.', '.attn.token_down.'),
    (r'\.attn\.main\.(?:1\.)?pwise\.', '.attn.qkv.'),
    (r'\.attn\.main\.(?:1\.)?upsampling\.', '.attn.proj_up.'),
    (r'\.attn\.main\.0\.', '.attn_norm.'),
    (r'\.mlp\.main\.0\.', '.mlp.norm.'),
    (r'\.mlp\.main\.1\.', '.mlp.fc1.'),
    (r'\.mlp\.main\.3\.', '.mlp.fc2.'),
    (r'\.main\.', '.'),
    (r'^(stem|stages)\.', r'backbone.\1.'),
    (r'^in_conv\.', 'head.in_conv.'),
    (r'^pre_classifier\.0\.', 'head.fc_hidden.'),
    (r'^pre_classifier\.1\.', 'head.norm.'),
    (r'^classifier\.', 'head.fc.'),
)


def detect_layout(keys: Iterable[str]) -> Optional[str]:
    keys = set(keys)
    if any(k.startswith('backbone.input_stem.') for k in keys):
        return 'official'
    if 'stem.0.conv.weight' in keys:
        return 'timm'
    if 'backbone.stem.0.conv.weight' in keys and not any('.main.' in k for k in keys):
        return 'mmlow'
    return None


def to_mmlow(state_dict: Dict, layout: str) -> Dict:
    if layout == 'mmlow':
        return dict(state_dict)
    out = {}
    for key, value in state_dict.items():
        if layout == 'official':
            for old, new in _OFFICIAL_TO_TIMM:
                key = key.replace(old, new)
        for pattern, repl in _TIMM_TO_MMLOW:
            key = re.sub(pattern, repl, key)
        out[key] = value
    return out

