from .efficientformer import EfficientFormer
from .efficientformer_v2 import EfficientFormerV2
from .efficientvit import EfficientViTMSRA
from .lowformer import LowFormer

# The family table: each class carries its family name (checkpoint readers are registered under
# it, mmlow.converters), its variant table (arch_zoo) and its ImageNet head (classifier_head);
# classifiers and checkpoint detection read the families from here.
FAMILIES = {cls.family: cls for cls in (LowFormer, EfficientViTMSRA, EfficientFormer,
                                        EfficientFormerV2)}

__all__ = ['EfficientFormer', 'EfficientFormerV2', 'EfficientViTMSRA', 'FAMILIES', 'LowFormer']
