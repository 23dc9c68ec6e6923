from .readers import (COCOPairsReader, GOT10kReader, LaSOTReader, TrackingDataError,
                      TrackingNetReader, TrackingSequence, read_image, write_got10k_meta)

__all__ = [
    'COCOPairsReader', 'GOT10kReader', 'LaSOTReader', 'TrackingDataError', 'TrackingNetReader',
    'TrackingSequence', 'read_image', 'write_got10k_meta'
]
from .synthetic import cover_labels, ensure_tracking_shapes, render_sequence  # noqa: E402

__all__ += ['cover_labels', 'ensure_tracking_shapes', 'render_sequence']
from .pairs import ShapesTrackingReader, TrackingPairDataset  # noqa: E402

__all__ += ['ShapesTrackingReader', 'TrackingPairDataset']
