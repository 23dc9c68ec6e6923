"""EfficientFormer (V1) checkpoint layouts: official (snap-research/EfficientFormer), timm, mmlow.

Official and timm number the blocks of stage 4 as one list in which a parameter-free
``Flat`` module sits between the 4D (pooling) and the 3D (attention) blocks; mmlow keeps the
attention blocks in their own ``token_blocks`` list of that stage.
"""
import re
from typing import Dict, Iterable, Optional

LAYOUTS = ('official', 'timm', 'mmlow')

_OFFICIAL_STEM = {'0': 'conv1', '1': 'norm1', '3': 'conv2', '4': 'norm2'}

# timm -> mmlow, for keys outside the attention blocks
_TIMM_TO_MMLOW = (
    (r'^stem\.conv(\d)\.', lambda m: f'stem.{int(m.group(1)) - 1}.conv.'),
    (r'^stem\.norm(\d)\.', lambda m: f'stem.{int(m.group(1)) - 1}.norm.'),
    (r'\.mlp\.fc(\d)\.', r'.mlp.fc\1.conv.'),
    (r'\.mlp\.norm(\d)\.', r'.mlp.fc\1.norm.'),
)

# timm -> mmlow inside an attention (3D) block
_TIMM_TOKEN_BLOCK_TO_MMLOW = (
    (r'^token_mixer\.attention_biases$', 'attn.pos_bias.table'),
    (r'^token_mixer\.', 'attn.'),
)

_TIMM_HEAD_TO_MMLOW = (
    (r'^norm\.', 'head.norm.'),
    (r'^head_dist\.', 'head.fc_dist.'),
    (r'^head\.(weight|bias)$', r'head.fc.\1'),
)


# timm's stems: V1 has plain conv/norm pairs, V2 conv-BN units
_TIMM_STEM_KEY = {1: 'stem.conv1.weight', 2: 'stem.conv1.conv.weight'}


def detect_version_layout(keys: Iterable[str], version: int) -> Optional[str]:
    """The layout of an EfficientFormer ``version`` (1 or 2) checkpoint, None if it is none."""
    keys = set(keys)
    if _TIMM_STEM_KEY[version] in keys:
        return 'timm'
    # V1 and V2 share the official and mmlow prefixes; only V2's MLPs have a depthwise `mid`
    if any('.mlp.mid' in k for k in keys) != (version == 2):
        return None
    if 'patch_embed.0.weight' in keys:
        return 'official'
    # V1's LayerScale names set it apart from the other families' mmlow checkpoints
    if 'backbone.stem.0.conv.weight' in keys and (
            version == 2 or any(k.endswith('.ls2.weight') for k in keys)):
        return 'mmlow'
    return None


def detect_layout(keys: Iterable[str]) -> Optional[str]:
    return detect_version_layout(keys, 1)


def _official_to_timm(key: str) -> str:
    match = re.match(r'patch_embed\.(\d)\.(.*)', key)
    if match:
        return f'stem.{_OFFICIAL_STEM[match.group(1)]}.{match.group(2)}'
    match = re.match(r'network\.(\d+)\.(.*)', key)
    if match:
        index, rest = int(match.group(1)), match.group(2)
        # the official network list interleaves stages (even) and downsamples (odd)
        if index % 2:
            rest = re.sub(r'^proj\.', 'conv.', rest)
            key = f'stages.{(index + 1) // 2}.downsample.{rest}'
        else:
            key = f'stages.{index // 2}.blocks.{rest}'
    key = re.sub(r'\.layer_scale_(\d)$', r'.ls\1.gamma', key)
    return re.sub(r'^dist_head\.', 'head_dist.', key)


def _apply(rules, key: str) -> str:
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


def to_mmlow(state_dict: Dict, layout: str) -> Dict:
    if layout == 'mmlow':
        return dict(state_dict)
    if layout == 'official':
        state_dict = {_official_to_timm(k): v for k, v in state_dict.items()}
    # per stage, the list index of its first attention block (the Flat entry sits just before)
    first_token_block = {}
    for key in state_dict:
        match = re.match(r'stages\.(\d+)\.blocks\.(\d+)\.token_mixer\.qkv\.weight$', key)
        if match:
            stage, index = int(match.group(1)), int(match.group(2))
            first_token_block[stage] = min(index, first_token_block.get(stage, index))

    out = {}
    for key, value in state_dict.items():
        if key.endswith('attention_bias_idxs'):
            continue  # derived from the grid size, rebuilt by the model
        key = re.sub(r'\.ls(\d)\.gamma$', r'.ls\1.weight', key)
        match = re.match(r'stages\.(\d+)\.blocks\.(\d+)\.(.*)', key)
        stage = int(match.group(1)) if match else None
        if match and int(match.group(2)) >= first_token_block.get(stage, float('inf')):
            index = int(match.group(2)) - first_token_block[stage]
            rest = _apply(_TIMM_TOKEN_BLOCK_TO_MMLOW, match.group(3))
            key = f'backbone.stages.{stage}.token_blocks.{index}.{rest}'
        elif key.startswith(('stem.', 'stages.')):
            key = 'backbone.' + _apply(_TIMM_TO_MMLOW, key)
        else:
            key = _apply(_TIMM_HEAD_TO_MMLOW, key)
        out[key] = value
    return out

