from .geometry import CropTransform, clip_box, crop, crop_transform, jitter_box
from .heads import CenterTrackingHead, PixelwiseCorrelationNeck, decode_boxes
from .inference import CropTracker, NCCTracker, StaticTracker, hann_window
from .tracker import OneStreamTracker, SearchBranch, TemplateBranch, join_search_template

__all__ = [
    'CenterTrackingHead', 'CropTracker', 'CropTransform', 'NCCTracker', 'OneStreamTracker',
    'PixelwiseCorrelationNeck', 'SearchBranch', 'StaticTracker', 'TemplateBranch', 'clip_box',
    'crop', 'crop_transform', 'decode_boxes', 'hann_window', 'jitter_box', 'join_search_template'
]
